"""Read side of the notification outbox for operators: counters, lists, history.

Used by the ops dashboard, ``flask notify``, ``/metrics`` and the portal's reservation
page. Changes go through ``services.notifications`` (``retry``), never from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from pelubot_web.extensions import db
from pelubot_web.models import Notification, Reservation
from pelubot_web.models.notify import Channel, NotificationKind, NotificationStatus
from pelubot_web.services.errors import InvalidInput

__all__ = ["Counts", "counts", "for_reservation", "list_notifications"]

PAGE_MAX = 100


@dataclass(frozen=True)
class Counts:
    by_status: dict[str, int]
    # (kind, channel) -> status -> count
    by_kind_channel: dict[tuple[str, str], dict[str, int]]


def counts() -> Counts:
    by_status = {str(s): 0 for s in NotificationStatus}
    grid: dict[tuple[str, str], dict[str, int]] = {}
    for kind, channel, status, count in db.session.execute(
        select(Notification.kind, Notification.channel, Notification.status, func.count())
        .group_by(Notification.kind, Notification.channel, Notification.status)
        .order_by(Notification.kind, Notification.channel)
    ):
        by_status[status] = by_status.get(status, 0) + count
        grid.setdefault((kind, channel), {})[status] = count
    return Counts(by_status, grid)


def list_notifications(
    *,
    status: str | None = None,
    kind: str | None = None,
    channel: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Notification], int]:
    """A page of rows, newest first, with the total matching the filters."""
    conditions = []
    for value, enum, column in (
        (status, NotificationStatus, Notification.status),
        (kind, NotificationKind, Notification.kind),
        (channel, Channel, Notification.channel),
    ):
        if value:
            if value not in set(enum):
                raise InvalidInput(f"unknown value {value!r}", field=column.key)
            conditions.append(column == value)
    total = db.session.scalar(select(func.count(Notification.id)).where(*conditions)) or 0
    page = db.session.scalars(
        select(Notification)
        .options(selectinload(Notification.reservation), selectinload(Notification.endpoint))
        .where(*conditions)
        .order_by(Notification.id.desc())
        .limit(max(1, min(limit, PAGE_MAX)))
        .offset(max(0, offset))
    )
    return list(page), int(total)


def for_customer(customer_id: int, *, limit: int = 50) -> list[Notification]:
    """The latest messages about any of a customer's reservations, newest first."""
    return list(
        db.session.scalars(
            select(Notification)
            .join(Reservation, Reservation.id == Notification.reservation_id)
            .options(selectinload(Notification.reservation))
            .where(Reservation.customer_id == customer_id)
            .order_by(Notification.due_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def for_reservation(reservation_id: int) -> list[Notification]:
    """Everything sent (or planned) about one reservation, oldest first."""
    return list(
        db.session.scalars(
            select(Notification)
            .options(selectinload(Notification.endpoint))
            .where(Notification.reservation_id == reservation_id)
            .order_by(Notification.due_at, Notification.id)
        )
    )
