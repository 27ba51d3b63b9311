"""A phone typed on the public booking page proves nothing about who is booking.

A stranger booking with an existing customer's phone must not change that customer's
record, nor what the API, the portal and Google show for the customer's other
reservations. The chatbot (whose channel verified the phone) may update the record.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pelubot_web.config import Config
from pelubot_web.extensions import db
from pelubot_web.gcal import event_id_for
from pelubot_web.gcal.emulator import EmulatorControl
from pelubot_web.models import Customer, Reservation
from pelubot_web.services import accounts
from pelubot_web.tasks.calendar import run_sync_job
from pelubot_web.tasks.runtime import worker_identity
from tests import factories as f
from tests.conftest import make_config
from tests.sync.conftest import sync_overrides
from tests.web.conftest import PASSWORD, login, post

API_KEY = "customer-identity-test-key-0123456789"
AUTH = {"X-API-Key": API_KEY}
PHONE = "+34 612 345 678"


@pytest.fixture
def config(migrated_database_url: str, emulator: EmulatorControl) -> Config:
    return make_config(migrated_database_url, api_key=API_KEY, **sync_overrides(emulator.base_url))


def _salon() -> tuple[Any, Any]:
    f.booking_rules(min_notice_min=60, max_advance_days=60, slot_granularity_min=15)
    service = f.service(name="Corte mujer", duration_min=45)
    stylist = f.stylist([service], hours=f.WEEKDAYS_WITH_LUNCH, name="Ana")
    db.session.commit()
    accounts.create_user("admin@salon.test", PASSWORD, "admin")
    return service, stylist


def _chatbot_booking(client: FlaskClient, service: Any, stylist: Any, hour: int, name: str) -> str:
    day = f.next_weekday(1)
    response = client.post(
        "/api/v1/reservations",
        headers=AUTH,
        json={
            "service_id": service.id,
            "professional_id": stylist.id,
            "start": f.local(day, hour).isoformat(),
            "customer": {"name": name, "phone": PHONE, "email": "maria@example.com"},
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["id"])


def _page_booking(client: FlaskClient, service: Any, stylist: Any, hour: int) -> None:
    day = f.next_weekday(1)
    slot = f"{stylist.id}|{f.local(day, hour).isoformat()}"
    data = {
        "service": str(service.id),
        "stylist": str(stylist.id),
        "day": day.isoformat(),
        "slot": slot,
        "name": "Impostor Malvado",
        "phone": "612345678",
        "email": "impostor@evil.test",
        "notes": "",
        "website": "",
    }
    response = post(client, "/book/", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]


def _sync_all() -> None:
    db.session.rollback()
    for reservation in db.session.scalars(select(Reservation)):
        assert reservation.sync_job_id is not None
        assert run_sync_job(reservation.sync_job_id, worker_identity()).status == "succeeded"


def _event_summary(emulator: EmulatorControl, reservation_uuid: str) -> str:
    (event,) = [e for e in emulator.events() if e["id"] == event_id_for(reservation_uuid)]
    return str(event["summary"]) + "\n" + str(event.get("description", ""))


def test_a_public_booking_with_a_known_phone_changes_nothing_of_that_customer(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    service, stylist = _salon()
    client = sync_app.test_client()
    original = _chatbot_booking(client, service, stylist, 10, "María López")
    _page_booking(client, service, stylist, 12)

    db.session.rollback()
    (customer,) = db.session.scalars(select(Customer)).all()
    assert (customer.name, customer.email) == ("María López", "maria@example.com")
    # The API shows the original booking as it was made ...
    shown = client.get(f"/api/v1/reservations/{original}", headers=AUTH).get_json()
    assert shown["customer"] == {
        "name": "María López",
        "phone": "+34612345678",
        "email": "maria@example.com",
    }
    # ... and the stranger's booking with what the stranger typed.
    impostor = db.session.scalar(select(Reservation).where(Reservation.uuid != original))
    assert impostor is not None
    other = client.get(f"/api/v1/reservations/{impostor.uuid}", headers=AUTH).get_json()
    assert other["customer"]["name"] == "Impostor Malvado"
    assert other["customer"]["email"] == "impostor@evil.test"

    # Google shows each booking's own name.
    _sync_all()
    assert "María" in _event_summary(emulator, original)
    assert "Impostor" not in _event_summary(emulator, original)
    assert "Impostor" in _event_summary(emulator, impostor.uuid)

    # The portal too, with a marker on the booking whose name differs from the record.
    login(client, "admin@salon.test")
    day = f.next_weekday(1).isoformat()
    agenda = client.get(f"/pro/?stylist={stylist.id}&date={day}").get_data(as_text=True)
    original_row = agenda[agenda.index(f'id="r-{original}"') :]
    assert "María López" in original_row.split("</li>", 1)[0]
    impostor_row = agenda[agenda.index(f'id="r-{impostor.uuid}"') :].split("</li>", 1)[0]
    assert "Impostor Malvado" in impostor_row
    assert "name-differs" in impostor_row
    assert "María López" in impostor_row  # what the customer record says


def test_the_chatbot_key_may_update_the_customer_record(sync_app: Flask) -> None:
    service, stylist = _salon()
    client = sync_app.test_client()
    first = _chatbot_booking(client, service, stylist, 10, "María López")
    _chatbot_booking(client, service, stylist, 12, "María López García")

    db.session.rollback()
    (customer,) = db.session.scalars(select(Customer)).all()
    assert customer.name == "María López García"
    # The earlier booking keeps the name it was made with.
    shown = client.get(f"/api/v1/reservations/{first}", headers=AUTH).get_json()
    assert shown["customer"]["name"] == "María López"
