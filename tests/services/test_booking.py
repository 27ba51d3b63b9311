"""The booking service: rules re-checked under the lock, versions, outbox, customers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from pelubot_web.extensions import db
from pelubot_web.metrics import RESERVATION_ACTIONS
from pelubot_web.models import CalendarSyncJob, Customer, Reservation
from pelubot_web.services import agenda, booking
from pelubot_web.services.errors import (
    InvalidPhone,
    NotFound,
    NotModifiable,
    OffGrid,
    ServiceNotOffered,
    SlotTaken,
)
from tests import factories as f
from tests.factories import stored

MONDAY = date(2027, 3, 15)
NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def salon(app: Flask) -> f.Salon:
    return f.Salon(buffer_after_min=10)


def book(salon: f.Salon, hour: int, minute: int = 0, **kwargs: object) -> Reservation:
    values: dict[str, object] = {
        "service_id": salon.cut.id,
        "stylist_id": salon.bea.id,
        "start": f.local(MONDAY, hour, minute),
        "customer": booking.CustomerInput("Eva Gil", "600 123 456"),
        "notes": None,
        "source": "chatbot",
        "now": NOW,
    }
    values.update(kwargs)
    return booking.create_reservation(**values)  # type: ignore[arg-type]


def test_create_stores_busy_until_with_buffer_version_one_and_a_pending_outbox_row(
    salon: f.Salon,
) -> None:
    before = RESERVATION_ACTIONS.labels("create", "chatbot")._value.get()
    res = book(salon, 10)
    assert res.version == 1
    assert res.end_at == f.utc(f.local(MONDAY, 10, 30))
    assert res.busy_until == f.utc(f.local(MONDAY, 10, 40))
    assert res.sync_status == "pending"
    job = db.session.get(CalendarSyncJob, res.sync_job_id)
    assert job is not None
    assert job.target_version == 1
    assert job.reservation_id == res.id
    assert RESERVATION_ACTIONS.labels("create", "chatbot")._value.get() == before + 1


def test_override_sets_duration_and_price(salon: f.Salon) -> None:
    res = book(salon, 10, service_id=salon.color.id, stylist_id=salon.ana.id)
    assert res.end_at - res.start_at == timedelta(minutes=60)
    assert res.price_cents == 6000


def test_customers_are_found_by_e164_phone_and_their_details_updated(salon: f.Salon) -> None:
    book(salon, 10)
    book(
        salon,
        11,
        customer=booking.CustomerInput("Eva Gil Ruiz", "+34 600-123-456", "eva@example.com"),
    )
    customers = list(db.session.scalars(select(Customer)))
    assert len(customers) == 1
    assert customers[0].phone == "+34600123456"
    assert customers[0].name == "Eva Gil Ruiz"
    assert customers[0].email == "eva@example.com"


def test_invalid_phone_off_grid_and_unoffered_service_are_refused(salon: f.Salon) -> None:
    with pytest.raises(InvalidPhone) as err:
        book(salon, 10, customer=booking.CustomerInput("Eva", "12"))
    assert err.value.field == "customer.phone"
    with pytest.raises(OffGrid):
        book(salon, 10, 5)
    with pytest.raises(ServiceNotOffered):
        book(salon, 10, service_id=salon.color.id)
    with pytest.raises(NotFound):
        book(salon, 10, stylist_id=9999)
    assert db.session.scalar(select(func.count(Reservation.id))) == 0


def test_overlap_with_the_buffer_is_slot_taken_and_back_to_back_after_it_is_fine(
    salon: f.Salon,
) -> None:
    book(salon, 10)
    with pytest.raises(SlotTaken):
        book(salon, 10, 30)  # inside the 10-minute buffer after 10:30
    later = book(salon, 10, 45)
    assert later.start_at == f.utc(f.local(MONDAY, 10, 45))


def test_back_to_back_bookings_without_buffer_both_succeed(app: Flask) -> None:
    salon = f.Salon(buffer_after_min=0)
    first = book(salon, 10)
    second = book(salon, 10, 30)
    assert first.end_at == second.start_at


def test_reschedule_moves_within_its_own_old_range_and_bumps_the_version(
    salon: f.Salon,
) -> None:
    res = book(salon, 10)
    moved = booking.reschedule_reservation(
        res.uuid, start=f.local(MONDAY, 10, 15), source="chatbot", now=NOW
    )
    assert moved.version == 2
    assert moved.start_at == f.utc(f.local(MONDAY, 10, 15))
    job = db.session.get(CalendarSyncJob, moved.sync_job_id)
    assert job is not None
    assert job.target_version == 2
    # Changing stylist re-checks every rule for the new one.
    other = book(salon, 12, stylist_id=salon.ana.id)
    with pytest.raises(SlotTaken):
        booking.reschedule_reservation(
            res.uuid, start=f.local(MONDAY, 12), stylist_id=salon.ana.id, source="chatbot", now=NOW
        )
    assert stored(Reservation, res.id).stylist_id == salon.bea.id
    assert other.version == 1


def test_notes_only_change_bumps_the_version_and_nothing_to_change_does_not(
    salon: f.Salon,
) -> None:
    res = book(salon, 10)
    same = booking.reschedule_reservation(res.uuid, source="chatbot", now=NOW)
    assert same.version == 1
    noted = booking.reschedule_reservation(res.uuid, notes="Trae foto", source="chatbot", now=NOW)
    assert noted.version == 2
    assert noted.notes == "Trae foto"


def test_cancel_is_idempotent_and_frees_the_slot(salon: f.Salon) -> None:
    res = book(salon, 10)
    cancelled = booking.cancel_reservation(res.uuid, source="chatbot", now=NOW)
    assert cancelled.status == "cancelled"
    assert cancelled.version == 2
    again = booking.cancel_reservation(res.uuid, source="chatbot", now=NOW)
    assert again.status == "cancelled"
    assert again.version == 2
    assert book(salon, 10).status == "confirmed"
    with pytest.raises(NotModifiable):
        booking.reschedule_reservation(
            res.uuid, start=f.local(MONDAY, 16), source="chatbot", now=NOW
        )


def test_set_status_closes_only_started_appointments(salon: f.Salon) -> None:
    res = book(salon, 10)
    with pytest.raises(NotModifiable):
        booking.set_status(res.uuid, "completed", source="portal", now=NOW)
    after = f.local(MONDAY, 10, 20)
    done = booking.set_status(res.uuid, "completed", source="portal", now=after)
    assert done.status == "completed"
    assert done.version == 2
    assert booking.set_status(res.uuid, "completed", source="portal", now=after).version == 2
    with pytest.raises(NotModifiable):
        booking.cancel_reservation(res.uuid, source="portal", now=after)


def test_list_reservations_filters_and_orders_by_start_then_id(salon: f.Salon) -> None:
    late = book(salon, 12)
    early = book(salon, 10)
    ana = book(
        salon, 10, stylist_id=salon.ana.id, customer=booking.CustomerInput("Ia", "611000111")
    )
    booking.cancel_reservation(late.uuid, source="chatbot", now=NOW)
    items, total = booking.list_reservations(limit=10, offset=0)
    assert total == 3
    assert [r.id for r in items] == sorted([early.id, ana.id]) + [late.id]
    items, total = booking.list_reservations(limit=10, offset=0, status="cancelled")
    assert [r.id for r in items] == [late.id]
    assert total == 1
    items, total = booking.list_reservations(limit=10, offset=0, stylist_id=salon.ana.id)
    assert [r.id for r in items] == [ana.id]
    items, _ = booking.list_reservations(
        limit=10, offset=0, start_from=f.local(MONDAY, 11), start_to=f.local(MONDAY, 13)
    )
    assert [r.id for r in items] == [late.id]
    items, _ = booking.list_reservations(limit=10, offset=0, phone="611 000 111")
    assert [r.id for r in items] == [ana.id]


def test_only_a_confirmed_reservation_that_has_not_started_can_change(salon: f.Salon) -> None:
    res = book(salon, 10)
    assert booking.can_change(res, now=NOW)
    assert not booking.can_change(res, now=f.local(MONDAY, 10))
    cancelled = booking.cancel_reservation(res.uuid, source="chatbot", now=NOW)
    assert not booking.can_change(cancelled, now=NOW)


def test_the_agenda_gets_one_stylists_reservations_in_a_half_open_range(salon: f.Salon) -> None:
    ten = book(salon, 10)
    book(salon, 12)
    book(salon, 10, stylist_id=salon.ana.id, customer=booking.CustomerInput("Ia", "611000111"))
    found = agenda.reservations_between(salon.bea.id, f.local(MONDAY, 10), f.local(MONDAY, 12))
    assert [r.id for r in found] == [ten.id]
    # Its outbox row comes along (the agenda shows the sync state).
    assert found[0].sync_job is not None
    assert found[0].sync_job.id == ten.sync_job_id
