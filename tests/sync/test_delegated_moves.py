"""With domain-wide delegation each stylist's calendar is written as that stylist.

The emulator plays Google here: a calendar shared only with its stylist's Workspace
account answers 404 to anyone else (the service account, another stylist), so a sync
that used the wrong identity fails these tests instead of passing unnoticed.
"""

from __future__ import annotations

from flask import Flask

from pelubot_web.extensions import db
from pelubot_web.gcal.emulator import EmulatorControl
from pelubot_web.models import Reservation, Service, Stylist
from pelubot_web.services.catalog_admin import save_stylist
from tests import factories as f
from tests.factories import stored
from tests.sync.changes import book, reschedule, run_open_jobs


def _delegated_salon(emulator: EmulatorControl) -> tuple[Service, Stylist, Stylist]:
    svc = f.service()
    ana = f.stylist([svc], slug="ana", calendar_id="ana@cal.test", google_account="ana@salon.es")
    bea = f.stylist([svc], slug="bea", calendar_id="bea@cal.test", google_account="bea@salon.es")
    db.session.commit()
    for calendar, owner in (("ana@cal.test", "ana@salon.es"), ("bea@cal.test", "bea@salon.es")):
        emulator.register_calendar(calendar, time_zone="Europe/Madrid", shared_with=(owner,))
    return svc, ana, bea


def _sync_status(reservation: Reservation) -> tuple[str, str | None]:
    db.session.rollback()
    row = stored(Reservation, reservation.id)
    return row.sync_status, row.last_sync_error


def test_the_emulator_refuses_a_calendar_to_users_it_is_not_shared_with(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc, ana, _ = _delegated_salon(emulator)
    emulator.register_calendar("ana@cal.test", shared_with=("someone-else@salon.es",))
    res = book(ana, svc, f.local(f.next_weekday(1), 10))
    run_open_jobs()

    status, error = _sync_status(res)
    assert status == "failed"
    assert error is not None
    assert "not found or not shared with ana@salon.es" in error
    assert emulator.events() == []


def test_a_moved_booking_is_deleted_as_its_old_stylist_and_written_as_the_new_one(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc, ana, bea = _delegated_salon(emulator)
    res = book(ana, svc, f.local(f.next_weekday(1), 10))
    run_open_jobs()
    assert {e["calendarId"] for e in emulator.events()} == {"ana@cal.test"}

    reschedule(res.id, stylist=bea)
    run_open_jobs()

    assert _sync_status(res) == ("synced", None)
    assert {e["calendarId"] for e in emulator.events()} == {"bea@cal.test"}


def test_a_stylist_who_changes_calendar_has_the_old_one_cleaned_as_themselves(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc, _, bea = _delegated_salon(emulator)
    res = book(bea, svc, f.local(f.next_weekday(1), 10))
    run_open_jobs()

    # No stylist has bea's old calendar any more: it is cleaned as bea herself.
    save_stylist(
        bea.id,
        name=bea.name,
        slug="bea",
        calendar_id="new-bea@cal.test",
        google_account="bea@salon.es",
    )
    emulator.register_calendar("new-bea@cal.test", shared_with=("bea@salon.es",))
    run_open_jobs()

    assert _sync_status(res) == ("synced", None)
    assert {e["calendarId"] for e in emulator.events()} == {"new-bea@cal.test"}
