"""What a stylist's agenda shows: their reservations in a stretch of time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from pelubot_web.extensions import db
from pelubot_web.models import Reservation


def reservations_between(stylist_id: int, start: datetime, end: datetime) -> list[Reservation]:
    """Every reservation of the stylist starting in ``[start, end)``, by start then id.

    Cancelled ones included (the agenda shows them struck through). What an agenda row
    shows (customer, service, sync job) is loaded with it, a query per relation.
    """
    return list(
        db.session.scalars(
            select(Reservation)
            .options(
                selectinload(Reservation.customer),
                selectinload(Reservation.service),
                selectinload(Reservation.sync_job),
            )
            .where(
                Reservation.stylist_id == stylist_id,
                Reservation.start_at >= start,
                Reservation.start_at < end,
            )
            .order_by(Reservation.start_at, Reservation.id)
        )
    )
