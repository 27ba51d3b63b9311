"""A busy demo week: reservations from this week's Monday to six days from today.

Every stylist's working intervals are filled with a plan of appointments that depends
only on the day, the stylist and the catalog (a ``random.Random`` seeded with both), so
re-running plans the very same starts and skips the ones already there: nothing is
duplicated. Each appointment is booked through ``booking.create_reservation`` with the
normal rules (grid, working hours, time off, closures, no overlap, outbox row); a planned
start the rules refuse (a day off, a booking someone made meanwhile) is skipped. Past
appointments are then closed as completed (or, one in eight, no-show) through
``booking.set_status``. The worker mirrors all of them into the calendars like any other
booking.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pelubot_web.extensions import db
from pelubot_web.models import Reservation, Stylist, StylistService, WorkingHours
from pelubot_web.models.reservation import SOURCES, ReservationStatus
from pelubot_web.models.types import utcnow
from pelubot_web.services import booking
from pelubot_web.services.catalog import booking_rules
from pelubot_web.services.errors import DomainError

__all__ = ["DEMO_CUSTOMERS", "demo_week_days", "seed_demo_week"]

DEMO_CUSTOMERS = [
    ("Ana García", "+34612000101"),
    ("Elena Martín", "+34612000102"),
    ("Pablo Sánchez", "+34612000103"),
    ("Isabel López", "+34612000104"),
    ("Sergio Gómez", "+34612000105"),
    ("Laura Jiménez", "+34612000106"),
    ("Diego Navarro", "+34612000107"),
    ("Carla Romero", "+34612000108"),
    ("Andrés Torres", "+34612000109"),
    ("Nuria Castro", "+34612000110"),
    ("Raúl Ortega", "+34612000111"),
    ("Patricia Vidal", "+34612000112"),
    ("Hugo Molina", "+34612000113"),
    ("Sofía Rubio", "+34612000114"),
    ("Irene Serrano", "+34612000115"),
    ("Marcos Blanco", "+34612000116"),
    ("Alba Delgado", "+34612000117"),
    ("Jorge Ramos", "+34612000118"),
    ("Claudia Herrera", "+34612000119"),
    ("Víctor Iglesias", "+34612000120"),
]
GAP_CHANCE = 0.4  # a free gap before an appointment, so the day is busy but not solid
NO_SHOW_CHANCE = 0.125


@dataclass(frozen=True)
class PlannedVisit:
    stylist_id: int
    service_id: int
    start: datetime  # aware, salon time zone
    customer: booking.CustomerInput
    source: str
    closing_status: ReservationStatus  # for when it lies in the past: completed or no_show

    @property
    def key(self) -> tuple[int, datetime]:
        return self.stylist_id, self.start.astimezone(UTC)


def demo_week_days(today: date) -> list[date]:
    """This week's Monday up to six days from today (past days, today and a week ahead)."""
    first = today - timedelta(days=today.weekday())
    return [first + timedelta(days=n) for n in range((today - first).days + 7)]


def _round_up(minutes: int, step: int) -> int:
    return -(-minutes // step) * step


def _plan_stylist_day(
    stylist: Stylist, hours: list[WorkingHours], day: date, tz: ZoneInfo
) -> Iterator[PlannedVisit]:
    """Back-to-back appointments with a few gaps, inside each working interval."""
    offers: list[StylistService] = sorted(
        (o for o in stylist.offerings if o.service.active), key=lambda o: o.service_id
    )
    if not offers:
        return
    rules = booking_rules()
    step = rules.slot_granularity_min
    rng = random.Random(f"{day.isoformat()}/{stylist.slug}")
    for interval in sorted(hours, key=lambda h: h.start_time):
        start = datetime.combine(day, interval.start_time, tz)
        close = datetime.combine(day, interval.end_time, tz)
        while True:
            if rng.random() < GAP_CHANCE:
                start += timedelta(minutes=_round_up(rng.choice((30, 45, 60)), step))
            offer = rng.choice(offers)
            duration = timedelta(minutes=offer.effective_duration_min)
            if start + duration > close:
                break
            name, phone = rng.choice(DEMO_CUSTOMERS)
            yield PlannedVisit(
                stylist_id=stylist.id,
                service_id=offer.service_id,
                start=start,
                customer=booking.CustomerInput(name=name, phone=phone),
                source=rng.choice(SOURCES),
                closing_status=(
                    ReservationStatus.NO_SHOW
                    if rng.random() < NO_SHOW_CHANCE
                    else ReservationStatus.COMPLETED
                ),
            )
            busy = offer.effective_duration_min + rules.buffer_after_min
            start += timedelta(minutes=_round_up(busy, step))


def _plan(days: list[date], tz: ZoneInfo) -> list[PlannedVisit]:
    stylists = db.session.scalars(
        select(Stylist)
        .where(Stylist.active.is_(True))
        .options(selectinload(Stylist.offerings).selectinload(StylistService.service))
        .order_by(Stylist.id)
    ).all()
    hours = db.session.scalars(select(WorkingHours)).all()
    plan: list[PlannedVisit] = []
    for day in days:
        for stylist in stylists:
            todays = [h for h in hours if h.stylist_id == stylist.id and h.weekday == day.weekday()]
            plan.extend(_plan_stylist_day(stylist, todays, day, tz))
    return plan


def _existing(days: list[date], tz: ZoneInfo) -> dict[tuple[int, datetime], Reservation]:
    """Live reservations in the window, by (stylist, start)."""
    first = datetime.combine(days[0], datetime.min.time(), tz)
    last = datetime.combine(days[-1] + timedelta(days=1), datetime.min.time(), tz)
    rows = db.session.scalars(
        select(Reservation)
        .options(selectinload(Reservation.customer))
        .where(
            Reservation.start_at >= first,
            Reservation.start_at < last,
            Reservation.status != ReservationStatus.CANCELLED,
        )
    )
    return {(r.stylist_id, r.start_at.astimezone(UTC)): r for r in rows}


def _book(visit: PlannedVisit) -> Reservation | None:
    try:
        return booking.create_reservation(
            service_id=visit.service_id,
            stylist_id=visit.stylist_id,
            start=visit.start,
            customer=visit.customer,
            notes=None,
            source=visit.source,
            # Booked the day before, as far as the notice and advance rules go.
            now=visit.start - timedelta(days=1),
        )
    except DomainError:
        return None  # the rules say no (day off, closure, taken meanwhile): skip it


def _close_if_past(visit: PlannedVisit, reservation: Reservation, now: datetime) -> bool:
    demo_phones = {phone for _, phone in DEMO_CUSTOMERS}
    if reservation.status != ReservationStatus.CONFIRMED or reservation.end_at > now:
        return False  # not over yet (or already closed)
    if reservation.customer.phone not in demo_phones:
        return False  # somebody's own booking: the stylist closes it
    booking.set_status(reservation.uuid, visit.closing_status, source="portal", now=now)
    return True


def seed_demo_week(
    tz: ZoneInfo, now: datetime | None = None, days: list[date] | None = None
) -> dict[str, int]:
    """Book the demo week's missing appointments and close the past ones; return counts.

    ``days`` defaults to ``demo_week_days(today)``.
    """
    now = (now or utcnow()).astimezone(UTC)
    days = days or demo_week_days(now.astimezone(tz).date())
    existing = _existing(days, tz)
    counts = {"reservations": 0, "closed": 0}
    for visit in _plan(days, tz):
        reservation = existing.get(visit.key)
        if reservation is None:
            reservation = _book(visit)
            if reservation is None:
                continue
            counts["reservations"] += 1
        counts["closed"] += _close_if_past(visit, reservation, now)
    return counts
