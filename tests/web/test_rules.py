"""Admin: the salon's booking rules (slot grid, buffer, notice, advance)."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from flask.testing import FlaskClient

from pelubot_web.extensions import db
from pelubot_web.models import BookingRules
from pelubot_web.services.accounts import create_api_key
from pelubot_web.services.errors import InvalidInput
from pelubot_web.services.schedule_admin import update_booking_rules
from tests.web.conftest import Salon, csrf_token, fresh, hx_post, login, post

RULES = {
    "slot_granularity_min": 15,
    "buffer_after_min": 0,
    "min_notice_min": 60,
    "max_advance_days": 60,
}  # what the salon fixture stores


def _stored_rules() -> dict[str, int]:
    fresh()
    rules = db.session.get(BookingRules, 1)
    assert rules is not None
    return {name: getattr(rules, name) for name in RULES}


def _api_slot_starts(client: FlaskClient, salon: Salon) -> list[datetime]:
    fresh()  # a stale SQLite read snapshot cannot be upgraded to a write
    key = create_api_key(f"rules-test-{uuid.uuid4().hex[:8]}", ["booking"]).secret
    response = client.get(
        f"/api/v1/slots?service_id={salon.service.id}&date={salon.day}"
        f"&professional_id={salon.lucia.id}",
        headers={"X-API-Key": key},
    )
    assert response.status_code == 200, response.get_json()
    return [datetime.fromisoformat(item["start"]) for item in response.get_json()["items"]]


def test_new_rules_change_the_slots_offered_at_once(client: FlaskClient, salon: Salon) -> None:
    login(client, "admin@salon.test")
    page = client.get("/admin/rules")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Reglas de reserva" in html
    assert "Tiempo libre tras cada cita" in html
    assert '<option selected value="15">' in html
    assert {start.minute for start in _api_slot_starts(client, salon)} == {0, 15, 30, 45}

    response = post(client, "/admin/rules", {**RULES, "slot_granularity_min": 30})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/rules"
    assert "Reglas de reserva guardadas." in client.get("/admin/rules").get_data(as_text=True)
    assert _stored_rules() == {**RULES, "slot_granularity_min": 30}
    starts = _api_slot_starts(client, salon)
    assert starts
    assert {start.minute for start in starts} == {0, 30}

    # Through htmx: a whole-page redirect; bookings now open only one day ahead.
    response = hx_post(client, "/admin/rules", {**RULES, "max_advance_days": 1})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/admin/rules"
    assert _api_slot_starts(client, salon) == []  # the test day is a week ahead


def test_invalid_rules_are_refused_next_to_their_fields(client: FlaskClient, salon: Salon) -> None:
    login(client, "admin@salon.test")
    bad = {
        "slot_granularity_min": 7,
        "buffer_after_min": 121,
        "min_notice_min": -1,
        "max_advance_days": 0,
    }
    response = post(client, "/admin/rules", bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field in bad:
        assert f'id="{field}-error"' in html, field
    missing = hx_post(client, "/admin/rules", {**RULES, "buffer_after_min": ""})
    assert missing.status_code == 422
    fragment = missing.get_data(as_text=True)
    assert fragment.lstrip().startswith("<form")
    assert 'id="buffer_after_min-error"' in fragment
    assert _stored_rules() == RULES


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slot_granularity_min", 25),
        ("slot_granularity_min", 0),
        ("buffer_after_min", -5),
        ("buffer_after_min", 121),
        ("min_notice_min", 10081),
        ("max_advance_days", 0),
        ("max_advance_days", 366),
    ],
)
def test_the_service_refuses_rules_out_of_range(salon: Salon, field: str, value: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        update_booking_rules(**{**RULES, field: value})
    assert refused.value.field == field
    assert _stored_rules() == RULES


def test_the_first_save_stores_the_rules_row(salon: Salon) -> None:
    fresh()
    db.session.query(BookingRules).delete()
    db.session.commit()
    limits = {"slot_granularity_min": 60, "buffer_after_min": 120}
    update_booking_rules(**{**RULES, **limits, "min_notice_min": 10080, "max_advance_days": 365})
    assert _stored_rules() == {**limits, "min_notice_min": 10080, "max_advance_days": 365}


@pytest.mark.parametrize("email", ["ops@salon.test", "lucia@salon.test"])
def test_only_admins_open_or_change_the_rules(
    client: FlaskClient, salon: Salon, email: str
) -> None:
    login(client, email)
    assert client.get("/admin/rules").status_code == 403
    response = post(client, "/admin/rules", {**RULES, "slot_granularity_min": 60})
    assert response.status_code == 403
    assert _stored_rules() == RULES


def test_rules_posts_without_csrf_are_rejected(client: FlaskClient, salon: Salon) -> None:
    login(client, "admin@salon.test")
    changed = {**RULES, "slot_granularity_min": 60}
    assert client.post("/admin/rules", data=changed).status_code == 400
    assert (
        client.post("/admin/rules", data=changed, headers={"HX-Request": "true"}).status_code == 400
    )
    wrong = {**changed, "csrf_token": csrf_token(client) + "x"}
    assert client.post("/admin/rules", data=wrong).status_code == 400
    assert _stored_rules() == RULES
