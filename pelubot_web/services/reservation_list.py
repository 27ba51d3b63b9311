"""Reading reservations: one by its id, and lists (filters, offset pages, keyset pages,
a capped total).

Lists are ordered by ``(start_at, id)``. At hundreds of thousands of rows two things
would make every page slow: an exact ``COUNT(*)`` of the whole match, and ``OFFSET n``
reading ``n`` full rows. So ``reservation_page`` counts at most ``TOTAL_CAP + 1``
matching rows (``total_exact`` says whether the cap was reached), pages by ids first (an
index-only scan on PostgreSQL, then the page's rows by primary key), and offers a keyset
cursor (``next_after`` / ``after``) whose cost does not grow with depth.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import joinedload

from pelubot_web.extensions import db
from pelubot_web.models import Customer, Reservation
from pelubot_web.models.reservation import ReservationStatus
from pelubot_web.services.errors import InvalidInput, NotFound
from pelubot_web.services.phone import normalize_phone

__all__ = [
    "TOTAL_CAP",
    "ReservationFilter",
    "ReservationPage",
    "get_reservation",
    "list_reservations",
    "reservation_page",
]

TOTAL_CAP = 1000
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class ReservationFilter:
    """``start_from`` inclusive, ``start_to`` exclusive; ``phone`` in any accepted format."""

    stylist_id: int | None = None
    start_from: datetime | None = None
    start_to: datetime | None = None
    status: str | None = None
    phone: str | None = None

    def conditions(self) -> list[Any]:
        if self.status is not None and self.status not in tuple(ReservationStatus):
            statuses = ", ".join(ReservationStatus)
            raise InvalidInput(f"status must be one of {statuses}", field="status")
        conditions: list[Any] = []
        if self.stylist_id is not None:
            conditions.append(Reservation.stylist_id == self.stylist_id)
        if self.start_from is not None:
            conditions.append(Reservation.start_at >= self.start_from)
        if self.start_to is not None:
            conditions.append(Reservation.start_at < self.start_to)
        if self.status is not None:
            conditions.append(Reservation.status == self.status)
        if self.phone is not None:
            e164 = normalize_phone(self.phone, field="phone")
            conditions.append(
                Reservation.customer_id.in_(select(Customer.id).where(Customer.phone == e164))
            )
        return conditions


@dataclass(frozen=True)
class ReservationPage:
    items: list[Reservation]
    total: int  # exact when total_exact, else "at least TOTAL_CAP"
    total_exact: bool
    next_after: str | None  # cursor of the next page; None on the last page


def encode_cursor(reservation: Reservation) -> str:
    raw = f"{reservation.start_at.astimezone(UTC).isoformat()}|{reservation.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """``(start_at, id)`` of the last item of the previous page; ``InvalidInput`` if bad."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        start_text, id_text = raw.split("|")
        start, reservation_id = datetime.fromisoformat(start_text), int(id_text)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("after is not a cursor this API returned", field="after") from exc
    if start.tzinfo is None or not 1 <= reservation_id <= MAX_ID or not 2000 <= start.year <= 2100:
        raise InvalidInput("after is not a cursor this API returned", field="after")
    return start, reservation_id


def _after(cursor: str) -> Any:
    start, reservation_id = decode_cursor(cursor)
    # The redundant ``>=`` lets the (start_at, id) index seek straight to the cursor.
    return and_(
        Reservation.start_at >= start,
        or_(Reservation.start_at > start, Reservation.id > reservation_id),
    )


def _rows(conditions: list[Any], limit: int, offset: int) -> list[Reservation]:
    """A page in list order: ids first (cheap to skip over), then those rows."""
    ids = (
        select(Reservation.id)
        .where(*conditions)
        .order_by(Reservation.start_at, Reservation.id)
        .limit(limit)
        .offset(offset)
        .scalar_subquery()
    )
    return list(
        db.session.scalars(
            select(Reservation)
            .options(joinedload(Reservation.customer), joinedload(Reservation.sync_job))
            .where(Reservation.id.in_(ids))
            .order_by(Reservation.start_at, Reservation.id)
        )
    )


def _capped_count(conditions: list[Any]) -> int:
    matching = select(Reservation.id).where(*conditions).limit(TOTAL_CAP + 1).subquery()
    return int(db.session.scalar(select(func.count()).select_from(matching)) or 0)


def reservation_page(
    where: ReservationFilter, *, limit: int, offset: int = 0, after: str | None = None
) -> ReservationPage:
    """One page of the list, by offset or after a cursor (not both), and its total."""
    if after is not None and offset:
        raise InvalidInput("use either offset or after, not both", field="after")
    conditions = where.conditions()
    rows = _rows([*conditions, _after(after)] if after else conditions, limit + 1, offset)
    items, more = rows[:limit], len(rows) > limit
    counted = _capped_count(conditions)
    return ReservationPage(
        items=items,
        total=min(counted, TOTAL_CAP),
        total_exact=counted <= TOTAL_CAP,
        next_after=encode_cursor(items[-1]) if more else None,
    )


def list_reservations(
    *,
    limit: int,
    offset: int,
    stylist_id: int | None = None,
    start_from: datetime | None = None,
    start_to: datetime | None = None,
    status: str | None = None,
    phone: str | None = None,
) -> tuple[list[Reservation], int]:
    """A page of reservations ordered by start then id, and the exact total matching.

    For staff screens that show a bounded range (an agenda); the API uses
    ``reservation_page``.
    """
    conditions = ReservationFilter(stylist_id, start_from, start_to, status, phone).conditions()
    total = db.session.scalar(select(func.count(Reservation.id)).where(*conditions)) or 0
    return _rows(conditions, limit, offset), int(total)


@cache
def _reservation_by_uuid() -> Select[Reservation]:
    """One round trip for what every answer about a reservation shows; built once (its
    cache key is then kept: building it cost more than running it)."""
    return (
        select(Reservation)
        .options(joinedload(Reservation.customer), joinedload(Reservation.sync_job))
        .where(Reservation.uuid == bindparam("uuid"))
    )


def get_reservation(reservation_uuid: str) -> Reservation:
    """One reservation with its customer and sync job; ``NotFound`` for an unknown id."""
    reservation: Reservation | None = db.session.scalar(
        _reservation_by_uuid(), {"uuid": str(reservation_uuid)}
    )
    if reservation is None:
        raise NotFound(f"no reservation {reservation_uuid}")
    return reservation
