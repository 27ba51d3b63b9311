"""Slot searches read the salon's setup from a per-process cache that every committed edit
drops in every process; the booking check never trusts it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from flask import Flask
from sqlalchemy import text, update

from pelubot_web.extensions import db
from pelubot_web.models import SalonClosure, WorkingHours
from pelubot_web.services import booking
from pelubot_web.services.availability import available_slots
from pelubot_web.services.errors import OutsideWorkingHours
from tests import factories as f
from tests.conftest import free_port, sql_statements, two_processes
from tests.factories import stored

MONDAY = date(2027, 3, 15)
NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
SETUP_TABLES = ("services", "stylists", "stylist_services", "working_hours", "salon_closures",
                "booking_rules")  # fmt: skip


def monday_starts(service_id: int, stylist_id: int | None = None) -> list[str]:
    slots = available_slots(service_id, MONDAY, stylist_id=stylist_id, now=NOW)
    return [s.start.strftime("%H:%M") for s in slots]


def reads_setup(sql: list[str]) -> bool:
    return any(f"from {table}" in s.lower() for s in sql for table in SETUP_TABLES)


@pytest.fixture
def salon(app: Flask, redis_conn: object) -> f.Salon:
    return f.Salon()


def test_a_second_search_reads_only_the_bookings(salon: f.Salon) -> None:
    monday_starts(salon.cut.id)
    with sql_statements() as sql:
        again = monday_starts(salon.cut.id)
    assert again
    assert not reads_setup(sql), sql
    assert any("from reservations" in s.lower() for s in sql)


def test_committed_edits_show_in_the_next_search(salon: f.Salon) -> None:
    assert "10:00" in monday_starts(salon.cut.id, salon.ana.id)
    for hours in db.session.scalars(
        db.select(WorkingHours).where(WorkingHours.stylist_id == salon.ana.id)
    ):
        hours.start_time = time(11) if hours.start_time == time(10) else hours.start_time
    db.session.commit()
    assert monday_starts(salon.cut.id, salon.ana.id)[0] == "11:00"

    db.session.add(SalonClosure(start_date=MONDAY, end_date=MONDAY))
    db.session.commit()
    assert monday_starts(salon.cut.id) == []

    # An ORM bulk statement counts as an edit too.
    db.session.execute(
        update(SalonClosure).values(start_date=date(2027, 4, 1), end_date=date(2027, 4, 1))
    )
    db.session.commit()
    assert monday_starts(salon.cut.id)


def test_an_edit_in_another_process_shows_at_once(
    migrated_database_url: str, redis_conn: object
) -> None:
    web, admin = two_processes(migrated_database_url)
    with web.app_context():
        salon = f.Salon()
        cut_id, bea_id = salon.cut.id, salon.bea.id
        assert "10:00" in monday_starts(cut_id, bea_id)
        db.session.remove()
    with admin.app_context():
        stored(type(salon.bea), bea_id).active = False
        db.session.commit()
        db.session.remove()
    with web.app_context():
        assert {s.stylist_id for s in available_slots(cut_id, MONDAY, now=NOW)} == {salon.ana.id}
        db.session.remove()


def test_without_redis_every_search_reads_the_database(migrated_database_url: str) -> None:
    web, admin = two_processes(
        migrated_database_url, redis_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    with web.app_context():
        salon = f.Salon()
        cut_id, ana_id = salon.cut.id, salon.ana.id
        assert "10:00" in monday_starts(cut_id, ana_id)
        db.session.remove()
    with admin.app_context():
        db.session.add(SalonClosure(start_date=MONDAY, end_date=MONDAY))
        db.session.commit()  # its invalidation cannot reach the web process
        db.session.remove()
    with web.app_context():
        assert monday_starts(cut_id, ana_id) == []
        db.session.remove()


def test_an_uncommitted_edit_is_seen_by_its_own_transaction_and_never_cached(
    salon: f.Salon,
) -> None:
    assert "10:00" in monday_starts(salon.cut.id, salon.ana.id)
    db.session.add(SalonClosure(start_date=MONDAY, end_date=MONDAY))
    db.session.flush()
    assert monday_starts(salon.cut.id, salon.ana.id) == []
    db.session.rollback()
    assert "10:00" in monday_starts(salon.cut.id, salon.ana.id)


def test_the_booking_check_reads_the_database_not_the_cache(salon: f.Salon) -> None:
    assert "10:00" in monday_starts(salon.cut.id, salon.ana.id)
    # Hours removed behind the ORM's back: the cached search cannot know ...
    db.session.execute(
        text("DELETE FROM working_hours WHERE stylist_id = :id"), {"id": salon.ana.id}
    )
    db.session.commit()
    assert "10:00" in monday_starts(salon.cut.id, salon.ana.id)
    # ... but the check inside the booking transaction refuses the stale slot.
    with pytest.raises(OutsideWorkingHours):
        booking.create_reservation(
            service_id=salon.cut.id,
            stylist_id=salon.ana.id,
            start=f.local(MONDAY, 10),
            customer=booking.CustomerInput(name="Lucía", phone="+34600000001", email=None),
            notes=None,
            source="portal",
            now=NOW,
        )
