"""Changing a stylist's calendar moves their upcoming events; nothing is left behind."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from pelubot_web.extensions import db
from pelubot_web.gcal.emulator import EmulatorControl
from pelubot_web.models import Reservation
from pelubot_web.services.catalog_admin import save_stylist
from tests import factories as f
from tests.factories import stored
from tests.sync.changes import book, run_open_jobs


def test_a_new_calendar_id_moves_upcoming_events_and_removing_it_deletes_them(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc = f.service()
    ana = f.stylist([svc], slug="ana", name="Ana", calendar_id="old@calendar.test")
    db.session.commit()
    day = f.next_weekday(1)
    first = book(ana, svc, f.local(day, 10))
    second = book(ana, svc, f.local(day, 12))
    run_open_jobs()
    assert {e["calendarId"] for e in emulator.events()} == {"old@calendar.test"}

    save_stylist(ana.id, name="Ana", slug="ana", calendar_id="new@calendar.test")
    db.session.rollback()
    assert {r.sync_status for r in db.session.scalars(select(Reservation))} == {"pending"}
    run_open_jobs()
    events = emulator.events()
    assert len(events) == 2
    assert {e["calendarId"] for e in events} == {"new@calendar.test"}

    save_stylist(ana.id, name="Ana", slug="ana", calendar_id="")
    run_open_jobs()
    assert emulator.events() == []
    db.session.rollback()
    for res in (first, second):
        assert stored(Reservation, res.id).synced_calendar_id is None


def test_renaming_a_service_refreshes_the_text_of_upcoming_events(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    from pelubot_web.services.catalog_admin import save_service

    svc = f.service(name="Corte", slug="corte", duration_min=30, price_cents=1800)
    ana = f.stylist([svc], calendar_id="ana@calendar.test")
    db.session.commit()
    book(ana, svc, f.local(f.next_weekday(1), 10))
    run_open_jobs()
    assert emulator.events()[0]["summary"].startswith("Corte —")

    save_service(svc.id, name="Corte y peinado", slug="corte", duration_min=30, price_cents=1800)
    run_open_jobs()
    (event,) = emulator.events()
    assert event["summary"].startswith("Corte y peinado —")
