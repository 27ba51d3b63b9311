"""The front desk's picture of the salon: columns (stylists of a day, or days of one
stylist) on a time grid, with reservations, time off, closures and Google busy time
placed by row, and the free cells a receptionist can click to book.

The grid unit is ``ROW_MIN`` minutes of local wall-clock time; row 1 is the first
minute of the visible range (the earliest opening of the columns shown). The view
model is plain data, so the template only places things.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from pelubot_web.extensions import db
from pelubot_web.models import (
    ExternalBusy,
    Reservation,
    SalonClosure,
    Stylist,
    TimeOff,
    WorkingHours,
)
from pelubot_web.models.reservation import ReservationStatus
from pelubot_web.models.types import utcnow
from pelubot_web.services import catalog
from pelubot_web.services.availability import salon_tz
from pelubot_web.services.catalog import booking_rules

__all__ = [
    "ROW_MIN",
    "Block",
    "Column",
    "DeskView",
    "FreeCell",
    "Shade",
    "changes_token",
    "salon_day",
    "stylist_week",
]

ROW_MIN = 5
DEFAULT_HOURS = (time(9), time(20))  # shown when nobody works that day


@dataclass(frozen=True)
class Block:
    reservation: Reservation
    row: int
    span: int


@dataclass(frozen=True)
class Shade:
    kind: str  # "off" (time off), "busy" (Google), "closed" (salon), "out" (not working)
    row: int
    span: int
    label: str | None = None


@dataclass(frozen=True)
class FreeCell:
    start: datetime  # aware, salon zone
    row: int
    span: int


@dataclass
class Column:
    stylist: Stylist
    day: date
    blocks: list[Block] = field(default_factory=list)
    shades: list[Shade] = field(default_factory=list)
    cells: list[FreeCell] = field(default_factory=list)
    now_row: int | None = None


@dataclass
class DeskView:
    first_minute: int  # local minute of day at row 1
    rows: int
    granularity_min: int
    columns: list[Column]
    hours: list[tuple[str, int]]  # ("10:00", row) labels

    @property
    def booked(self) -> int:
        return sum(1 for c in self.columns for b in c.blocks if b.reservation.is_live)


@dataclass
class _Data:
    hours: dict[int, list[WorkingHours]]
    reservations: dict[int, list[Reservation]]
    time_off: dict[int, list[TimeOff]]
    busy: dict[int, list[ExternalBusy]]
    closed: set[date]


def salon_day(
    day: date, *, include_cancelled: bool = False, now: datetime | None = None
) -> DeskView:
    """Every active stylist's column for one local day."""
    stylists = catalog.list_stylists(active_only=True)
    return _build([(s, day) for s in stylists], include_cancelled, now)


def stylist_week(
    stylist: Stylist, day: date, *, include_cancelled: bool = False, now: datetime | None = None
) -> DeskView:
    """One stylist's Monday-to-Sunday week containing ``day``, a column per day."""
    monday = day - timedelta(days=day.weekday())
    return _build([(stylist, monday + timedelta(days=n)) for n in range(7)], include_cancelled, now)


def changes_token(now: datetime | None = None) -> str:
    """A short value that changes whenever the desk picture may change: any booking
    written (count and latest ``updated_at``), time off or Google busy added or
    removed, and every ``ROW_MIN`` minutes (the now line moves). One cheap query."""
    now = now or utcnow()
    counts = db.session.execute(
        select(
            select(func.count(Reservation.id)).scalar_subquery(),
            select(func.max(Reservation.updated_at)).scalar_subquery(),
            select(func.count(TimeOff.id)).scalar_subquery(),
            select(func.max(TimeOff.id)).scalar_subquery(),
            select(func.count(ExternalBusy.id)).scalar_subquery(),
            select(func.max(ExternalBusy.id)).scalar_subquery(),
            select(func.count(SalonClosure.id)).scalar_subquery(),
        )
    ).one()
    bucket = int(now.timestamp()) // (ROW_MIN * 60)
    raw = "|".join(str(v) for v in (*counts, bucket))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _load(stylist_ids: list[int], start: datetime, end: datetime, include_cancelled: bool) -> _Data:
    data = _Data(defaultdict(list), defaultdict(list), defaultdict(list), defaultdict(list), set())
    for wh in db.session.scalars(
        select(WorkingHours).where(WorkingHours.stylist_id.in_(stylist_ids))
    ):
        data.hours[wh.stylist_id].append(wh)
    query = (
        select(Reservation)
        .options(selectinload(Reservation.customer), selectinload(Reservation.service))
        .where(
            Reservation.stylist_id.in_(stylist_ids),
            Reservation.start_at < end,
            Reservation.end_at > start,
        )
        .order_by(Reservation.start_at, Reservation.id)
    )
    if not include_cancelled:
        query = query.where(Reservation.status != ReservationStatus.CANCELLED)
    for r in db.session.scalars(query):
        data.reservations[r.stylist_id].append(r)
    for off in db.session.scalars(
        select(TimeOff).where(
            TimeOff.stylist_id.in_(stylist_ids), TimeOff.start_at < end, TimeOff.end_at > start
        )
    ):
        data.time_off[off.stylist_id].append(off)
    for block in db.session.scalars(
        select(ExternalBusy).where(
            ExternalBusy.stylist_id.in_(stylist_ids),
            ExternalBusy.start_at < end,
            ExternalBusy.end_at > start,
        )
    ):
        data.busy[block.stylist_id].append(block)
    tz = salon_tz()
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    for closure in db.session.scalars(
        select(SalonClosure).where(SalonClosure.start_date <= last, SalonClosure.end_date >= first)
    ):
        day = closure.start_date
        while day <= closure.end_date:
            data.closed.add(day)
            day += timedelta(days=1)
    return data


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _visible_range(pairs: list[tuple[Stylist, date]], data: _Data) -> tuple[int, int]:
    """The earliest opening and latest closing of the columns, on whole hours."""
    spans = [
        (_minutes(wh.start_time), _minutes(wh.end_time))
        for stylist, day in pairs
        for wh in data.hours[stylist.id]
        if wh.weekday == day.weekday()
    ]
    if not spans:
        spans = [(_minutes(DEFAULT_HOURS[0]), _minutes(DEFAULT_HOURS[1]))]
    first = min(s for s, _ in spans) // 60 * 60
    last = -(-max(e for _, e in spans) // 60) * 60
    return first, last


class _Grid:
    """Turns instants of one local day into rows of the visible range."""

    def __init__(self, day: date, first_minute: int, last_minute: int, tz: ZoneInfo) -> None:
        self.day, self.tz = day, tz
        self.first, self.last = first_minute, last_minute

    def minute(self, instant: datetime) -> int:
        local = instant.astimezone(self.tz)
        if local.date() < self.day:
            return self.first
        if local.date() > self.day:
            return self.last
        return min(max(local.hour * 60 + local.minute, self.first), self.last)

    def place(self, start: datetime, end: datetime) -> tuple[int, int] | None:
        """(row, span) of ``[start, end)`` clipped to the range; None if outside."""
        a, b = self.minute(start), self.minute(end)
        if b <= a:
            return None
        row = (a - self.first) // ROW_MIN + 1
        return row, max(1, -(-(b - self.first) // ROW_MIN) + 1 - row)

    def instant(self, minute: int) -> datetime:
        return datetime.combine(self.day, time(minute // 60, minute % 60), self.tz)


def _build(
    pairs: list[tuple[Stylist, date]], include_cancelled: bool, now: datetime | None
) -> DeskView:
    tz = salon_tz()
    now = (now or utcnow()).astimezone(UTC)
    days = sorted({day for _, day in pairs}) or [now.astimezone(tz).date()]
    start = datetime.combine(days[0], time(0), tz).astimezone(UTC)
    end = datetime.combine(days[-1] + timedelta(days=1), time(0), tz).astimezone(UTC)
    data = _load([s.id for s, _ in pairs], start, end, include_cancelled)
    first, last = _visible_range(pairs, data)
    granularity = booking_rules().slot_granularity_min
    columns = [
        _column(stylist, _Grid(day, first, last, tz), data, granularity, now)
        for stylist, day in pairs
    ]
    hours = [(f"{m // 60:02d}:00", (m - first) // ROW_MIN + 1) for m in range(first, last, 60)]
    return DeskView(
        first_minute=first,
        rows=(last - first) // ROW_MIN,
        granularity_min=granularity,
        columns=columns,
        hours=hours,
    )


def _column(stylist: Stylist, grid: _Grid, data: _Data, granularity: int, now: datetime) -> Column:
    column = Column(stylist=stylist, day=grid.day)
    working = sorted(
        (grid.instant(_minutes(wh.start_time)), grid.instant(_minutes(wh.end_time)))
        for wh in data.hours[stylist.id]
        if wh.weekday == grid.day.weekday()
    )
    if grid.day in data.closed:
        working = []
        column.shades.append(Shade("closed", 1, (grid.last - grid.first) // ROW_MIN))
    else:
        column.shades.extend(_outside_hours(grid, working))
    busy: list[tuple[datetime, datetime]] = []
    for off in data.time_off[stylist.id]:
        busy.append((off.start_at, off.end_at))
        _shade(column, grid, "off", off.start_at, off.end_at, off.reason)
    for block in data.busy[stylist.id]:
        busy.append((block.start_at, block.end_at))
        _shade(column, grid, "busy", block.start_at, block.end_at, None)
    for r in data.reservations[stylist.id]:
        if grid.minute(r.start_at) != grid.minute(r.end_at) and _on_day(r.start_at, grid):
            placed = grid.place(r.start_at, r.end_at)
            if placed is not None:
                column.blocks.append(Block(r, *placed))
            if r.is_live:
                busy.append((r.start_at, r.busy_until))
    column.cells = _free_cells(grid, working, busy, granularity, now)
    if now.astimezone(grid.tz).date() == grid.day:
        minute = grid.minute(now)
        if grid.first < minute < grid.last:
            column.now_row = (minute - grid.first) // ROW_MIN + 1
    return column


def _on_day(instant: datetime, grid: _Grid) -> bool:
    return instant.astimezone(grid.tz).date() == grid.day


def _shade(
    column: Column, grid: _Grid, kind: str, start: datetime, end: datetime, label: str | None
) -> None:
    placed = grid.place(start, end)
    if placed is not None:
        column.shades.append(Shade(kind, *placed, label=label))


def _outside_hours(grid: _Grid, working: list[tuple[datetime, datetime]]) -> list[Shade]:
    """Shades over the parts of the visible range the stylist does not work."""
    shades = []
    cursor = grid.instant(grid.first)
    for start, end in [*working, (grid.instant(grid.last), grid.instant(grid.last))]:
        placed = grid.place(cursor, start)
        if placed is not None:
            shades.append(Shade("out", *placed))
        cursor = max(cursor, end)
    return shades


def _free_cells(
    grid: _Grid,
    working: list[tuple[datetime, datetime]],
    busy: list[tuple[datetime, datetime]],
    granularity: int,
    now: datetime,
) -> list[FreeCell]:
    """One clickable cell per grid time that is in working hours, not taken, not past."""
    cells = []
    step = timedelta(minutes=granularity)
    for work_start, work_end in working:
        start = work_start
        while start + step <= work_end:
            end = start + step
            taken = any(start < b_end and b_start < end for b_start, b_end in busy)
            placed = grid.place(start, end)
            if not taken and start > now and placed is not None:
                cells.append(FreeCell(start, *placed))
            start = end
    return cells
