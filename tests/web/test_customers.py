"""Customer pages: search, edit, staff notes; admin merge, export and erase; the audit log."""

from __future__ import annotations

import json

from flask.testing import FlaskClient

from pelubot_web.extensions import db
from pelubot_web.models import Customer, Reservation
from pelubot_web.observability import redact_secret_paths
from pelubot_web.services import accounts
from tests import factories
from tests.factories import stored
from tests.web.conftest import PASSWORD, Salon, book, fresh, hx_get, login, post


def test_reception_searches_edits_and_keeps_private_notes(
    client: FlaskClient, salon: Salon
) -> None:
    r = book(salon, salon.lucia, 10, customer_obj=factories.customer(name="Íñigo Sáez"))
    accounts.create_user("desk@salon.test", PASSWORD, "reception")
    login(client, "desk@salon.test")
    found = hx_get(client, "/customers/?q=inigo").get_data(as_text=True)
    assert f'href="/customers/{r.customer_id}"' in found
    assert "<html" not in found
    assert "1 reserva" not in found
    page = client.get(f"/customers/{r.customer_id}").get_data(as_text=True)
    assert "Íñigo Sáez" in page
    assert "Corte mujer" in page
    assert "Exportar" not in page  # admin-only tools are not offered to reception
    saved = post(
        client, f"/customers/{r.customer_id}", {"name": "Íñigo Sáez", "phone": "644 555 666"}
    )
    assert saved.status_code == 303
    notes = post(client, f"/customers/{r.customer_id}/notes", {"notes": "Tinte 5.3 + 20 vol"})
    assert notes.status_code == 303
    bad = post(client, f"/customers/{r.customer_id}", {"name": "", "phone": "1"})
    assert bad.status_code == 422
    fresh()
    customer = db.session.get(Customer, r.customer_id)
    assert customer is not None
    assert customer.phone == "+34644555666"
    assert customer.staff_notes == "Tinte 5.3 + 20 vol"
    assert client.get("/customers/999999").status_code == 404


def test_admin_merges_exports_and_erases_and_the_audit_log_shows_it(
    client: FlaskClient, salon: Salon
) -> None:
    keep = book(salon, salon.lucia, 10, customer_obj=factories.customer(name="Rocío Gil"))
    dup = book(salon, salon.carmen, 12, customer_obj=factories.customer(name="Rocio G."))
    keep_id, dup_id = keep.customer_id, dup.customer_id
    login(client, "admin@salon.test")
    base = f"/customers/{keep_id}"
    assert post(client, f"{base}/merge", {"duplicate_id": "999999"}).status_code == 422
    assert post(client, f"{base}/merge", {"duplicate_id": dup_id}).status_code == 303
    exported = post(client, f"{base}/export")
    assert exported.mimetype == "application/json"
    assert "attachment" in exported.headers["Content-Disposition"]
    data = json.loads(exported.get_data(as_text=True))
    assert len(data["reservations"]) == 2
    assert data["customer"]["name"] == "Rocío Gil"
    assert "Rocío Gil" in client.get(f"{base}/erase").get_data(as_text=True)
    assert post(client, f"{base}/erase").status_code == 303
    fresh()
    assert db.session.get(Customer, dup_id) is None
    owners = {r.customer_id for r in db.session.query(Reservation)}
    assert owners == {keep_id}
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "admin@salon.test" in log
    for action in ("Clientes fusionados", "Datos exportados", "Datos personales borrados"):
        assert action in log
    assert "Rocío" not in log


def test_access_logs_hide_customer_searches() -> None:
    """gunicorn's access log line goes through this: names and phones typed into a
    search never reach the log."""
    line = '"GET /customers/?q=Luc%C3%ADa+N&page=2 HTTP/1.1" /api/v1/reservations?phone=%2B3465'
    redacted = redact_secret_paths(line)
    assert "Luc" not in redacted
    assert "3465" not in redacted
    assert "/customers/?q=<redacted>&page=2" in redacted


def test_another_customers_phone_is_a_409_that_changes_nothing(
    client: FlaskClient, salon: Salon
) -> None:
    first = factories.customer(name="Eva Ruiz", phone="+34600111222")
    factories.customer(name="Eva R.", phone="+34600333444")
    db.session.commit()
    first_id = first.id
    login(client, "admin@salon.test")
    url = f"/customers/{first_id}"
    taken = post(client, url, {"name": "Eva Ruiz Gil", "phone": "600 333 444"})
    assert taken.status_code == 409
    html = taken.get_data(as_text=True)
    assert 'id="phone-error"' in html
    assert 'value="Eva Ruiz Gil"' in html  # what was typed is kept
    unknown = post(client, f"{url}/merge", {"duplicate_id": "999999"})
    assert "No hay ningún cliente con ese número." in unknown.get_data(as_text=True)
    fresh()
    customer = stored(Customer, first_id)
    assert (customer.name, customer.phone) == ("Eva Ruiz", "+34600111222")
