"""When reminders fall due: hours before, overdue ones, quiet hours (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pelubot_web.config import ConfigError, parse_quiet_hours
from pelubot_web.services.notify_plan import plan_reminders

MADRID = ZoneInfo("Europe/Madrid")
QUIET = (21, 9)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=MADRID)


def _due(start: datetime, now: datetime, hours: tuple[int, ...]) -> list[datetime]:
    return [p.due_at.astimezone(MADRID) for p in plan_reminders(start, now, hours, QUIET, MADRID)]


def test_reminders_fall_due_the_given_hours_before() -> None:
    assert _due(_at(15, 18), _at(1, 12), (48, 3)) == [_at(15, 15), _at(13, 18)]


def test_overdue_reminders_collapse_into_one_sent_at_once() -> None:
    now = _at(15, 11)
    assert _due(_at(15, 18), now, (48, 24)) == [now]


def test_no_overdue_reminder_when_the_appointment_is_close() -> None:
    assert _due(_at(15, 12), _at(15, 10, 30), (24,)) == []


def test_quiet_hours_delay_to_the_morning() -> None:
    # 24 h before 07:30 is 07:30, inside 21-9: sent at 09:00 the day before the visit.
    assert _due(_at(16, 7, 30) + timedelta(days=0), _at(1, 12), (24,)) == [_at(15, 9)]


def test_quiet_hours_send_earlier_when_the_morning_is_too_late() -> None:
    # 3 h before 08:30 is 05:30; 09:00 would be after the visit: sent at 21:00 the evening before.
    assert _due(_at(16, 8, 30), _at(1, 12), (3,)) == [_at(15, 21)]


def test_a_reminder_is_never_planned_in_the_past() -> None:
    now = _at(15, 22)
    assert _due(_at(16, 8, 30), now, (3,)) == [now]


def test_empty_quiet_hours_disable_them() -> None:
    start = _at(16, 8, 30)
    plans = plan_reminders(start, _at(1, 12), (3,), None, MADRID)
    assert [p.due_at for p in plans] == [start - timedelta(hours=3)]
    assert parse_quiet_hours("") is None


@pytest.mark.parametrize("raw", ["21", "9-9", "25-3", "a-b"])
def test_bad_quiet_hours_are_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match="QUIET_HOURS"):
        parse_quiet_hours(raw)


def test_reminder_keys_change_with_the_start() -> None:
    now = datetime(2027, 3, 1, tzinfo=UTC)
    first = plan_reminders(_at(15, 18), now, (24,), None, MADRID)
    moved = plan_reminders(_at(15, 19), now, (24,), None, MADRID)
    assert first[0].event_key != moved[0].event_key
