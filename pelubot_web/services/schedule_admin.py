"""Edits of when people work and how they are booked: weekly hours, salon closures,
stylists' time off and the salon's booking rules.

Each edit validates and commits; the slot searches' cached copy of hours, closures and
rules is dropped in every process by ``services.salon_setup``'s commit hook. Time off is
not cached (it is read with the bookings on every search).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select

from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.models import BookingRules, Reservation, SalonClosure, TimeOff, WorkingHours
from pelubot_web.models.reservation import ReservationStatus
from pelubot_web.services.catalog_admin import get_stylist
from pelubot_web.services.errors import (
    EndBeforeStart,
    HoursOverlap,
    InvalidInput,
    LastDayBeforeFirst,
    NonexistentLocalTime,
    NotFound,
    ReservationsInTheWay,
)

__all__ = [
    "BUFFER_AFTER_RANGE",
    "MAX_ADVANCE_RANGE",
    "MIN_NOTICE_RANGE",
    "SLOT_GRANULARITIES",
    "add_closure",
    "add_time_off",
    "add_working_hours",
    "delete_closure",
    "delete_time_off",
    "delete_working_hours",
    "list_closures",
    "list_time_off",
    "update_booking_rules",
    "weekly_hours",
]

# What admins may choose for the booking rules (inclusive ranges). The grid divides an
# hour evenly, so every hour starts the same way.
SLOT_GRANULARITIES = (5, 10, 15, 20, 30, 60)
BUFFER_AFTER_RANGE = (0, 120)  # minutes
MIN_NOTICE_RANGE = (0, 7 * 24 * 60)  # minutes: up to a week
MAX_ADVANCE_RANGE = (1, 365)  # days


def _reason(value: str | None) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > 200:
        raise InvalidInput("must be at most 200 characters", field="reason")
    return value


def weekly_hours(stylist_id: int) -> dict[int, list[WorkingHours]]:
    """Weekday (0 = Monday) -> the stylist's intervals that day, in order."""
    rows = db.session.scalars(
        select(WorkingHours)
        .where(WorkingHours.stylist_id == stylist_id)
        .order_by(WorkingHours.weekday, WorkingHours.start_time)
    ).all()
    week: dict[int, list[WorkingHours]] = {day: [] for day in range(7)}
    for row in rows:
        week[row.weekday].append(row)
    return week


def add_working_hours(stylist_id: int, weekday: int, start: time, end: time) -> WorkingHours:
    """Add a working interval; it must not overlap the stylist's others that weekday."""
    get_stylist(stylist_id)
    if not 0 <= weekday <= 6:
        raise InvalidInput("weekday must be 0 (Monday) to 6 (Sunday)", field="weekday")
    if start >= end:
        raise EndBeforeStart("the end must be after the start", field="end_time")
    for other in weekly_hours(stylist_id)[weekday]:
        if start < other.end_time and other.start_time < end:
            raise HoursOverlap("overlaps another interval that day", field="start_time")
    row = WorkingHours(stylist_id=stylist_id, weekday=weekday, start_time=start, end_time=end)
    db.session.add(row)
    db.session.commit()
    return row


def delete_working_hours(stylist_id: int, hours_id: int) -> None:
    row = db.session.get(WorkingHours, hours_id)
    if row is None or row.stylist_id != stylist_id:
        raise NotFound(f"working hours {hours_id} do not exist")
    db.session.delete(row)
    db.session.commit()


def list_closures(from_date: date | None = None) -> list[SalonClosure]:
    query = select(SalonClosure).order_by(SalonClosure.start_date)
    if from_date is not None:
        query = query.where(SalonClosure.end_date >= from_date)
    return list(db.session.scalars(query).all())


def add_closure(start_date: date, end_date: date, reason: str | None) -> SalonClosure:
    if end_date < start_date:
        raise LastDayBeforeFirst("the last day must not be before the first", field="end_date")
    closure = SalonClosure(start_date=start_date, end_date=end_date, reason=_reason(reason))
    db.session.add(closure)
    db.session.commit()
    return closure


def delete_closure(closure_id: int) -> None:
    closure = db.session.get(SalonClosure, closure_id)
    if closure is None:
        raise NotFound(f"closure {closure_id} does not exist")
    db.session.delete(closure)
    db.session.commit()


def list_time_off(stylist_id: int, ending_after: datetime) -> list[TimeOff]:
    return list(
        db.session.scalars(
            select(TimeOff)
            .where(TimeOff.stylist_id == stylist_id, TimeOff.end_at > ending_after)
            .order_by(TimeOff.start_at)
        ).all()
    )


def _ensure_exists(moment: datetime, field: str) -> None:
    """Refuse a wall-clock time the clocks skip (spring-forward gap): it names no instant."""
    try:
        round_trip = moment.astimezone(UTC).astimezone(moment.tzinfo)
    except OverflowError:
        raise InvalidInput("the time is out of range", field=field) from None
    if round_trip.replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise NonexistentLocalTime("that local time does not exist (clock change)", field=field)


def add_time_off(stylist_id: int, start: datetime, end: datetime, reason: str | None) -> TimeOff:
    """Block ``[start, end)`` for the stylist.

    Refused (``Conflict``) while live reservations fall inside: those customers must be
    moved or cancelled first, so nobody silently loses an appointment.
    """
    get_stylist(stylist_id)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("times must carry a time zone", field="start")
    _ensure_exists(start, "start")
    _ensure_exists(end, "end")
    # Compare instants, not wall clocks: Python compares same-zone times by wall clock.
    if start.astimezone(UTC) >= end.astimezone(UTC):
        raise EndBeforeStart("the end must be after the start", field="end")
    clash = db.session.scalar(
        select(Reservation.id).where(
            Reservation.stylist_id == stylist_id,
            Reservation.status == ReservationStatus.CONFIRMED,
            Reservation.start_at < end,
            Reservation.end_at > start,
        )
    )
    if clash is not None:
        raise ReservationsInTheWay("there are confirmed reservations in that time", field="start")
    row = TimeOff(stylist_id=stylist_id, start_at=start, end_at=end, reason=_reason(reason))
    db.session.add(row)
    db.session.commit()
    return row


def delete_time_off(stylist_id: int, time_off_id: int) -> None:
    row = db.session.get(TimeOff, time_off_id)
    if row is None or row.stylist_id != stylist_id:
        raise NotFound(f"time off {time_off_id} does not exist")
    db.session.delete(row)
    db.session.commit()


def _check_range(field: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise InvalidInput(f"must be between {low} and {high}", field=field)


def update_booking_rules(
    *,
    slot_granularity_min: int,
    buffer_after_min: int,
    min_notice_min: int,
    max_advance_days: int,
) -> BookingRules:
    """Replace the salon's booking rules (the single row, created on the first save).

    Availability and the booking re-check read the rules from the database on every
    call and no cache holds them, so the next request of every process applies them.
    Existing reservations keep their times and their buffer (``busy_until``).
    """
    if slot_granularity_min not in SLOT_GRANULARITIES:
        choices = ", ".join(map(str, SLOT_GRANULARITIES))
        raise InvalidInput(f"must be one of {choices}", field="slot_granularity_min")
    _check_range("buffer_after_min", buffer_after_min, BUFFER_AFTER_RANGE)
    _check_range("min_notice_min", min_notice_min, MIN_NOTICE_RANGE)
    _check_range("max_advance_days", max_advance_days, MAX_ADVANCE_RANGE)
    begin_write()  # reads the row, then writes it
    rules = db.session.get(BookingRules, 1)
    if rules is None:
        rules = BookingRules(id=1)
        db.session.add(rules)
    rules.slot_granularity_min = slot_granularity_min
    rules.buffer_after_min = buffer_after_min
    rules.min_notice_min = min_notice_min
    rules.max_advance_days = max_advance_days
    db.session.commit()
    return rules
