"""Busy-time import as Google really answers: declined invitations, recurring events,
all-day events in the calendar's zone, and nothing beyond the booking horizon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from pelubot_web.extensions import db
from pelubot_web.gcal.emulator import EmulatorControl
from pelubot_web.models import ExternalBusy
from pelubot_web.tasks.pull import import_busy_blocks
from pelubot_web.tasks.runtime import calendar_gateway
from tests import factories as f

CAL = "ana@calendar.test"


def _busy() -> list[tuple[str, datetime, datetime]]:
    db.session.rollback()
    return [
        (row.event_id, row.start_at, row.end_at)
        for row in db.session.scalars(select(ExternalBusy).order_by(ExternalBusy.start_at))
    ]


def _event(event_id: str, start: datetime, **extra: Any) -> None:
    body: dict[str, Any] = {
        "summary": "Personal",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        **extra,
    }
    calendar_gateway().upsert_event(CAL, event_id, body)


def _stylist() -> int:
    f.booking_rules(max_advance_days=30)
    ana = f.stylist([f.service()], calendar_id=CAL)
    db.session.commit()
    return ana.id


def test_an_invitation_the_stylist_declined_does_not_block_time(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    stylist_id = _stylist()
    start = f.local(f.next_weekday(1), 10)
    me = {"email": CAL, "self": True}
    _event("acc0000001", start, attendees=[{**me, "responseStatus": "accepted"}])
    _event("dec0000001", start, attendees=[{**me, "responseStatus": "declined"}])

    assert import_busy_blocks(stylist_id) == "full"

    assert [event_id for event_id, _, _ in _busy()] == ["acc0000001"]


def test_a_recurring_event_becomes_instances_and_stops_at_the_booking_horizon(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    stylist_id = _stylist()
    first = f.local(f.next_weekday(1), 18)
    weekly = {
        "start": {"dateTime": first.replace(tzinfo=None).isoformat(), "timeZone": "Europe/Madrid"},
        "end": {
            "dateTime": (first + timedelta(hours=1)).replace(tzinfo=None).isoformat(),
            "timeZone": "Europe/Madrid",
        },
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=52"],
    }
    calendar_gateway().upsert_event(CAL, "abc0000001", {"summary": "Gym", **weekly})

    import_busy_blocks(stylist_id)

    rows = _busy()
    horizon = datetime.now(UTC) + timedelta(days=32)
    assert 2 <= len(rows) <= 5, rows  # 30-day horizon: a handful of weeks, not 52
    assert all(start < horizon for _, start, _ in rows)
    assert all(s.astimezone(f.MADRID).hour == 18 for _, s, _ in rows), "wall clock kept"

    # Incremental syncs list every instance of a changed series: still bounded.
    calendar_gateway().upsert_event(CAL, "abc0000002", {"summary": "Yoga", **weekly})
    assert import_busy_blocks(stylist_id) == "incremental"
    assert all(start < horizon for _, start, _ in _busy())
    assert len(_busy()) == 2 * len(rows)


def test_all_day_events_block_the_day_in_the_calendars_time_zone(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    stylist_id = _stylist()
    emulator.register_calendar(CAL, time_zone="America/New_York")
    day = f.next_weekday(2)
    calendar_gateway().upsert_event(
        CAL,
        "ad00000001",
        {
            "summary": "Day off",
            "start": {"date": day.isoformat()},
            "end": {"date": (day + timedelta(days=1)).isoformat()},
        },
    )

    import_busy_blocks(stylist_id)

    ((_, start, end),) = _busy()
    assert start.astimezone(UTC).hour in (4, 5)  # midnight in New York, not in Madrid
    assert end - start == timedelta(days=1)
