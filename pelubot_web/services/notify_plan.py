"""Which notifications a reservation change produces, and when reminders fall due.

Pure rules, no I/O: the outbox (``services/notifications.py``) turns the plan into rows
inside the booking transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pelubot_web.models.notify import NotificationKind

__all__ = ["MIN_LEAD", "ReminderPlan", "apply_quiet_hours", "plan_reminders", "reminder_key"]

# A reminder that is already overdue at booking time is sent at once, unless the
# appointment is this close: the customer has just booked it and remembers.
MIN_LEAD = timedelta(hours=2)

# Email goes to the customer for these kinds; status changes (completed, no-show) only
# reach webhooks.
EMAIL_KINDS = (
    NotificationKind.CONFIRMATION,
    NotificationKind.RESCHEDULED,
    NotificationKind.CANCELLED,
    NotificationKind.REMINDER,
)
# What an unsubscribed customer no longer gets (a confirmation they asked for still goes).
OPTIONAL_EMAIL_KINDS = (
    NotificationKind.RESCHEDULED,
    NotificationKind.CANCELLED,
    NotificationKind.REMINDER,
)


@dataclass(frozen=True)
class ReminderPlan:
    hours: int
    due_at: datetime
    event_key: str


def reminder_key(hours: int, start: datetime) -> str:
    """Names one reminder of one appointment time: a moved booking gets new keys."""
    return f"{hours}h@{int(start.timestamp())}"


def start_of_reminder_key(event_key: str) -> int | None:
    _, sep, unix = event_key.partition("@")
    return int(unix) if sep and unix.isdigit() else None


def apply_quiet_hours(
    due: datetime, start: datetime, quiet: tuple[int, int] | None, tz: ZoneInfo, now: datetime
) -> datetime:
    """Move a due time out of the quiet period ``quiet=(from_hour, to_hour)`` (salon time).

    Delayed to the end of the period; if that is at or after the appointment, sent
    before the period starts instead (never earlier than ``now``).
    """
    if quiet is None:
        return due
    first, last = quiet
    local = due.astimezone(tz)
    hour = local.hour
    in_quiet = (first <= hour or hour < last) if first > last else (first <= hour < last)
    if not in_quiet:
        return due
    end_day = local.date() if hour < last else local.date() + timedelta(days=1)
    if first < last:
        end_day = local.date()
    end = datetime.combine(end_day, time(last), tzinfo=tz)
    if end < start:
        return end.astimezone(due.tzinfo)
    begin_day = end_day - timedelta(days=1) if first > last else end_day
    begin = datetime.combine(begin_day, time(first), tzinfo=tz)
    return max(begin.astimezone(due.tzinfo), now)


def plan_reminders(
    start: datetime,
    now: datetime,
    hours: tuple[int, ...],
    quiet: tuple[int, int] | None,
    tz: ZoneInfo,
) -> list[ReminderPlan]:
    """Reminders of an appointment at ``start``, booked or moved at ``now``.

    Reminders whose time has passed collapse into one sent at once (the one nearest the
    appointment), unless the appointment is less than ``MIN_LEAD`` away.
    """
    plans: list[ReminderPlan] = []
    overdue_taken = False
    for h in sorted(hours):
        due = start - timedelta(hours=h)
        if due <= now:
            if overdue_taken or start - now < MIN_LEAD:
                continue
            overdue_taken, due = True, now
        due = apply_quiet_hours(due, start, quiet, tz, now)
        plans.append(ReminderPlan(h, due, reminder_key(h, start)))
    return plans
