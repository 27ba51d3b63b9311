"""The front desk over HTTP: the grid, its change check, booking a cell, moving,
closing and the clash message."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from urllib.parse import quote

from flask.testing import FlaskClient

from pelubot_web.extensions import db
from pelubot_web.models import Reservation
from pelubot_web.services import accounts
from tests import factories
from tests.factories import stored
from tests.web.conftest import PASSWORD, Salon, book, fresh, hx_get, hx_post, login, post

DESK = "desk@salon.test"
TOKEN_RE = re.compile(r'data-token="([0-9a-f]+)"')


def _desk_login(client: FlaskClient) -> None:
    accounts.create_user(DESK, PASSWORD, "reception")
    login(client, DESK)


def _cell(salon: Salon, hour: int, minute: int = 0) -> str:
    return factories.local(salon.day, hour, minute).isoformat()


def _new_url(stylist_id: int, start: str) -> str:
    return f"/desk/new?stylist={stylist_id}&start={quote(start)}"


def test_the_day_shows_a_column_per_stylist_and_each_booking_once(
    client: FlaskClient, salon: Salon
) -> None:
    mine = book(salon, salon.lucia, 10)
    book(salon, salon.carmen, 11, status="cancelled")
    _desk_login(client)
    html = client.get(f"/desk/?date={salon.day}").get_data(as_text=True)
    assert html.count('class="desk-col') == 2
    assert "Lucía Fernández" in html
    assert "Carmen Ruiz" in html
    assert html.count(f'id="b-{mine.uuid}"') == 1
    assert "gs-2 gsp-9" in html  # 10:00 is the first row (after the head), 45 min = 9 rows
    assert "1 reserva" in html  # the cancelled one is hidden...
    shown = client.get(f"/desk/?date={salon.day}&cancelled=1").get_data(as_text=True)
    assert "is-cancelled" in shown  # ...unless asked for
    assert f"/desk/new?stylist={salon.lucia.id}" in html


def test_bad_desk_arguments_are_client_errors(client: FlaskClient, salon: Salon) -> None:
    _desk_login(client)
    assert client.get("/desk/?date=2026-13-45").status_code == 400
    assert client.get("/desk/week?stylist=999999").status_code == 404
    assert client.get("/desk/new?stylist=abc&start=x").status_code == 400
    assert client.get(_new_url(999999, _cell(salon, 10))).status_code == 404
    assert client.get("/desk/new?stylist=1&start=2026-01-01T10:00").status_code == 400
    assert client.get("/desk/reservations/nope").status_code == 404


def test_a_stylist_sees_the_desk_read_only(client: FlaskClient, salon: Salon) -> None:
    book(salon, salon.carmen, 11)
    login(client, "lucia@salon.test")
    html = client.get(f"/desk/?date={salon.day}").get_data(as_text=True)
    assert "Carmen Ruiz" in html
    assert 'class="block' in html
    assert "/desk/new" not in html
    assert "/desk/reservations/" not in html


def test_the_grid_answers_204_until_a_booking_changes_it(client: FlaskClient, salon: Salon) -> None:
    _desk_login(client)
    page = client.get(f"/desk/?date={salon.day}").get_data(as_text=True)
    match = TOKEN_RE.search(page)
    assert match
    poll = f"/desk/grid?date={salon.day}&token={match.group(1)}"
    assert hx_get(client, poll).status_code == 204
    fresh()
    booked = book(salon, salon.carmen, 12)
    response = hx_get(client, poll)
    assert response.status_code == 200
    assert booked.customer.name in response.get_data(as_text=True)


def test_booking_a_free_cell_for_a_new_customer(client: FlaskClient, salon: Salon) -> None:
    _desk_login(client)
    form = hx_get(client, _new_url(salon.carmen.id, _cell(salon, 12)))
    html = form.get_data(as_text=True)
    assert "Corte mujer" in html
    assert "Color raíz" not in html
    data = {
        "stylist": salon.carmen.id,
        "start": _cell(salon, 12),
        "service": salon.service.id,
        "name": "Nueva Clienta",
        "phone": "611 222 333",
    }
    response = hx_post(client, "/desk/new", data)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert json.loads(response.headers["HX-Trigger"])["deskChanged"] is True
    fresh()
    (created,) = db.session.query(Reservation).all()
    assert created.stylist_id == salon.carmen.id
    assert created.customer.phone == "+34611222333"
    assert created.start_at == factories.utc(factories.local(salon.day, 12))


def test_booking_for_a_customer_found_by_search(client: FlaskClient, salon: Salon) -> None:
    regular = factories.customer(name="Begoña Ibáñez", phone="+34622333444")
    db.session.commit()
    _desk_login(client)
    options = hx_get(client, "/desk/customer-options?q=begona").get_data(as_text=True)
    assert f'value="{regular.id}"' in options
    data = {
        "stylist": salon.lucia.id,
        "start": _cell(salon, 16),
        "service": salon.long_service.id,
        "customer_id": regular.id,
    }
    assert hx_post(client, "/desk/new", data).status_code == 200
    fresh()
    (created,) = db.session.query(Reservation).all()
    assert created.customer_id == regular.id
    assert created.service_id == salon.long_service.id


def test_a_cell_taken_meanwhile_answers_409_and_refreshes_the_grid(
    client: FlaskClient, salon: Salon
) -> None:
    _desk_login(client)
    book(salon, salon.lucia, 12)
    data = {
        "stylist": salon.lucia.id,
        "start": _cell(salon, 12),
        "service": salon.service.id,
        "name": "Tarde",
        "phone": "633 444 555",
    }
    response = hx_post(client, "/desk/new", data)
    assert response.status_code == 409
    assert "acaba de reservarse" in response.get_data(as_text=True)
    assert json.loads(response.headers["HX-Trigger"]) == {"deskChanged": True}
    missing = hx_post(client, "/desk/new", {**data, "name": "", "phone": ""})
    assert missing.status_code == 422
    fresh()
    assert db.session.query(Reservation).count() == 1


def test_moving_a_reservation_to_another_stylist(client: FlaskClient, salon: Salon) -> None:
    moving = book(salon, salon.lucia, 10)
    _desk_login(client)
    url = f"/desk/reservations/{moving.uuid}/move"
    picker = hx_get(client, url).get_data(as_text=True)
    target = f"{salon.carmen.id}|{factories.local(salon.day, 11).isoformat()}"
    assert f'value="{target}"' in picker  # every stylist who does the service
    response = hx_post(client, url, {"day": salon.day.isoformat(), "slot": target})
    assert response.status_code == 200
    fresh()
    moved = db.session.get(Reservation, moving.id)
    assert moved is not None
    assert moved.stylist_id == salon.carmen.id
    assert moved.start_at == factories.utc(factories.local(salon.day, 11))
    bad = hx_post(client, url, {"slot": "garbage"})
    assert bad.status_code == 422


def test_no_show_at_the_desk_counts_on_the_customer_page(client: FlaskClient, salon: Salon) -> None:
    two_days_ago = datetime.now(factories.MADRID).date() - timedelta(days=2)
    past = factories.reservation(salon.lucia, salon.service, factories.local(two_days_ago, 10))
    db.session.commit()
    _desk_login(client)
    response = hx_post(client, f"/desk/reservations/{past.uuid}/status", {"status": "no_show"})
    assert response.status_code == 200
    page = client.get(f"/customers/{past.customer_id}").get_data(as_text=True)
    assert re.search(r'data-count="no_show"><b>1</b>', page)
    refused = hx_post(client, f"/desk/reservations/{past.uuid}/status", {"status": "x"})
    assert refused.status_code == 422


def test_cancel_from_the_panel_without_javascript_goes_back_to_the_day(
    client: FlaskClient, salon: Salon
) -> None:
    r = book(salon, salon.lucia, 13)
    _desk_login(client)
    response = post(client, f"/desk/reservations/{r.uuid}/cancel")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/desk/?date={salon.day}")
    fresh()
    cancelled = db.session.get(Reservation, r.id)
    assert cancelled is not None
    assert cancelled.status == "cancelled"


def test_closed_or_clashing_changes_answer_409_with_the_panel_and_refresh(
    client: FlaskClient, salon: Salon
) -> None:
    done = book(salon, salon.lucia, 10, status="completed")
    moving = book(salon, salon.lucia, 12)
    _desk_login(client)
    refused = hx_post(client, f"/desk/reservations/{done.uuid}/cancel")
    assert refused.status_code == 409
    assert "ya no se puede cambiar" in refused.get_data(as_text=True)
    trigger = json.loads(refused.headers["HX-Trigger"])
    assert trigger["deskChanged"] is True
    assert trigger["toast"]["error"] is True
    target = f"{salon.carmen.id}|{factories.local(salon.day, 11).isoformat()}"
    book(salon, salon.carmen, 11)  # taken after the picker was shown
    url = f"/desk/reservations/{moving.uuid}/move"
    clash = hx_post(client, url, {"day": salon.day.isoformat(), "slot": target})
    assert clash.status_code == 409
    assert "acaba de reservarse" in clash.get_data(as_text=True)
    assert json.loads(clash.headers["HX-Trigger"]) == {"deskChanged": True}
    fresh()
    assert stored(Reservation, done.id).status == "completed"
    assert stored(Reservation, moving.id).stylist_id == salon.lucia.id
