"""Pull side: busy time a stylist adds in Google becomes ExternalBusy (and blocks slots)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from pelubot_web.extensions import db
from pelubot_web.gcal import CalendarGateway, build_calendar_service
from pelubot_web.gcal.emulator import EmulatorControl
from pelubot_web.models import CalendarPullState, ExternalBusy
from pelubot_web.tasks.calendar import run_sync_job
from pelubot_web.tasks.pull import import_busy_blocks
from pelubot_web.tasks.runtime import worker_identity
from tests import factories as f
from tests.factories import sync_job_id
from tests.sync.changes import book


def _gateway(emulator: EmulatorControl) -> CalendarGateway:
    service = build_calendar_service(
        "emulator", credentials_file=None, emulator_url=emulator.base_url, timeout=5
    )
    return CalendarGateway(service)


def _foreign_event(
    gateway: CalendarGateway,
    calendar_id: str,
    event_id: str,
    start: datetime,
    hours: int = 1,
    **extra: object,
) -> None:
    body: dict[str, object] = {
        "id": event_id,
        "summary": "Médico",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=hours)).isoformat()},
    }
    body.update(extra)
    gateway.upsert_event(calendar_id, event_id, body)


def _busy() -> list[ExternalBusy]:
    db.session.rollback()
    return list(db.session.scalars(select(ExternalBusy).order_by(ExternalBusy.start_at)))


def test_foreign_events_are_imported_and_pelubot_events_skipped(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc = f.service()
    ana = f.stylist([svc], calendar_id="ana@calendar.test")
    db.session.commit()
    day = f.next_weekday(1)
    own = book(ana, svc, f.local(day, 10))
    run_sync_job(sync_job_id(own), worker_identity())
    gateway = _gateway(emulator)
    _foreign_event(gateway, "ana@calendar.test", "medico00001", f.local(day, 12), hours=2)
    _foreign_event(
        gateway, "ana@calendar.test", "libre000001", f.local(day, 17), transparency="transparent"
    )

    assert import_busy_blocks(ana.id) == "full"
    (block,) = _busy()
    assert block.event_id == "medico00001"
    assert block.start_at == f.local(day, 12).astimezone(UTC)
    assert block.end_at == f.local(day, 14).astimezone(UTC)
    state = db.session.scalar(select(CalendarPullState))
    assert state is not None
    assert state.sync_token


def test_incremental_pull_follows_moves_and_deletions(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc = f.service()
    ana = f.stylist([svc], calendar_id="ana@calendar.test")
    db.session.commit()
    day = f.next_weekday(2)
    gateway = _gateway(emulator)
    _foreign_event(gateway, "ana@calendar.test", "cita0000001", f.local(day, 9))
    import_busy_blocks(ana.id)
    _foreign_event(gateway, "ana@calendar.test", "cita0000001", f.local(day, 15))
    _foreign_event(gateway, "ana@calendar.test", "cita0000002", f.local(day, 18))
    assert import_busy_blocks(ana.id) == "incremental"
    assert [(b.event_id, b.start_at) for b in _busy()] == [
        ("cita0000001", f.local(day, 15).astimezone(UTC)),
        ("cita0000002", f.local(day, 18).astimezone(UTC)),
    ]
    gateway.delete_event("ana@calendar.test", "cita0000001")
    assert import_busy_blocks(ana.id) == "incremental"
    assert [b.event_id for b in _busy()] == ["cita0000002"]


def test_an_expired_sync_token_triggers_a_full_resync(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc = f.service()
    ana = f.stylist([svc], calendar_id="ana@calendar.test")
    db.session.commit()
    day = f.next_weekday(3)
    gateway = _gateway(emulator)
    _foreign_event(gateway, "ana@calendar.test", "viaje000001", f.local(day, 10))
    import_busy_blocks(ana.id)
    gateway.delete_event("ana@calendar.test", "viaje000001")
    _foreign_event(gateway, "ana@calendar.test", "viaje000002", f.local(day, 16))
    emulator.invalidate_sync_tokens()

    assert import_busy_blocks(ana.id) == "full"
    assert [b.event_id for b in _busy()] == ["viaje000002"]


def test_a_google_error_during_pull_is_recorded_and_changes_nothing(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc = f.service()
    ana = f.stylist([svc], calendar_id="ana@calendar.test")
    db.session.commit()
    gateway = _gateway(emulator)
    _foreign_event(gateway, "ana@calendar.test", "fiesta00001", f.local(f.next_weekday(1), 10))
    import_busy_blocks(ana.id)
    emulator.add_fault(status=500, reason="backendError")
    assert import_busy_blocks(ana.id) == "failed"
    assert [b.event_id for b in _busy()] == ["fiesta00001"]
    state = db.session.scalar(select(CalendarPullState))
    assert state is not None
    assert "500" in (state.last_error or "")
