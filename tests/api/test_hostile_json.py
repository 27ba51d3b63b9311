"""JSON the app cannot represent is refused at the edge, before any fingerprint or write."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pelubot_web.extensions import db
from pelubot_web.models import IdempotencyRecord, Reservation
from tests import factories as f
from tests.api.conftest import booking_body
from tests.api.test_auth_errors_limits import assert_problem


def _count() -> int:
    db.session.rollback()
    return int(db.session.scalar(select(func.count()).select_from(Reservation)) or 0)


def _raw_post(client: FlaskClient, url: str, body: str, auth: dict[str, str]) -> object:
    headers = {**auth, "Idempotency-Key": "hostile-1"}
    return client.post(url, data=body, content_type="application/json", headers=headers)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("[" * 5000 + "]" * 5000, 400),
        ('{"a":' * 40 + "1" + "}" * 40, 400),
        ('{"service_id": ' + "9" * 3000 + "}", 400),
        ('{"service_id": ' + "9" * 30 + "}", 400),
        ('{"notes": "\\ud800", "service_id": 1}', 400),
        ('{"customer": {"name": "A\\udfff", "phone": "+34600000001"}}', 400),
    ],
    ids=["deep-list", "deep-object", "huge-int", "big-int", "lone-surrogate", "nested-surrogate"],
)
def test_unrepresentable_json_is_a_400_and_books_nothing(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], body: str, status: int
) -> None:
    response = _raw_post(client, "/api/v1/reservations", body, auth)
    assert_problem(response, status)
    assert _count() == 0
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0


def test_a_lone_surrogate_in_a_patch_is_refused(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    created = client.post(
        "/api/v1/reservations",
        json=booking_body(salon, f.local(monday, 10).isoformat()),
        headers=auth,
    )
    assert created.status_code == 201
    url = f"/api/v1/reservations/{created.get_json()['id']}"
    response = client.patch(
        url, data='{"notes": "x\\ud83d"}', content_type="application/json", headers=auth
    )
    assert_problem(response, 400)
    assert client.get(url, headers=auth).get_json()["notes"] == "Primera vez"


@pytest.mark.parametrize(
    "changes",
    [
        {"service_id": 2.7},
        {"professional_id": 1.0},
        {"service_id": "1"},
        {"service_id": 2**31},
        {"service_id": True},
        {"customer": {"name": "Ana\x00", "phone": "+34600000001"}},
        {"customer": {"name": "Ana \x1b[31m", "phone": "+34600000001"}},
        {"notes": "hola\x00"},
        {"start": "9999-12-31T23:59:59-23:59"},
        {"start": "0001-01-01T00:00:00+23:59"},
    ],
    ids=str,
)
def test_ids_must_be_integers_and_text_free_of_control_characters(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date, changes: dict
) -> None:  # type: ignore[type-arg]
    body = booking_body(salon, f.local(monday, 10).isoformat()) | changes
    assert_problem(client.post("/api/v1/reservations", json=body, headers=auth), 422)
    assert _count() == 0


@pytest.mark.parametrize(
    "query",
    [
        "limit=99999999999999999999",
        "offset=99999999999999999999",
        "professional_id=99999999999999999999",
        "start_from=9999-12-31T23:59:59-23:59",
        "status=%00",
        "phone=%00",
    ],
)
def test_hostile_list_queries_are_422(
    client: FlaskClient, auth: dict[str, str], query: str
) -> None:
    assert_problem(client.get(f"/api/v1/reservations?{query}", headers=auth), 422)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/slots?service_id=1&date=9999-12-31",
        "/api/v1/slots?service_id=1&date=0001-01-01",
        "/api/v1/slots?service_id=2.7&date=2026-12-01",
        "/api/v1/slots?service_id=99999999999999999999&date=2026-12-01",
        "/api/v1/professionals?service_id=99999999999999999999",
    ],
)
def test_hostile_slot_and_catalog_queries_are_422(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], url: str
) -> None:
    assert_problem(client.get(url, headers=auth), 422)


def test_admin_job_ids_beyond_the_database_range_are_404(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    response = client.post("/api/v1/admin/calendar-jobs/99999999999999999999/retry", headers=auth)
    assert response.status_code == 404
