"""Bench databases: the demo salon, plus an optional large history (``--scale``).

``make_scale_data`` writes ``customers`` customers and ``reservations`` past
reservations (synced, no outbox rows) in bulk, so a 200k-row database takes seconds to
build instead of hours through the booking service. They are spread over the demo
stylists, back to back within each stylist's day, ending yesterday: the no-overlap
constraint holds and the near future (what ``/slots`` reads) keeps the demo's shape, as
a salon with years of history has.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from pelubot_web.extensions import db
from pelubot_web.models import Customer, Reservation, StylistService
from pelubot_web.models.reservation import fold_text

__all__ = ["make_scale_data"]

BATCH = 5000
DAY_OPEN, SLOTS_PER_DAY, SLOT_MIN = time(10), 9, 60


def _customers(count: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {
            "name": f"Cliente {i}",
            "search_name": f" {fold_text(f'Cliente {i}')} ",  # what the ORM hook would set
            "phone": f"+3469{i:07d}",
            "email": None,
            "created_at": now,
        }
        for i in range(count)
    ]


def _insert(model: type[Any], rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        db.session.execute(insert(model), rows[i : i + BATCH])


def _reservation_rows(count: int, customer_ids: list[int], tz: ZoneInfo) -> list[dict[str, Any]]:
    offers = db.session.scalars(
        select(StylistService).order_by(StylistService.stylist_id, StylistService.service_id)
    ).all()
    stylists = sorted({o.stylist_id for o in offers})
    services = {s: [o for o in offers if o.stylist_id == s] for s in stylists}
    per_day = len(stylists) * SLOTS_PER_DAY
    yesterday = datetime.now(tz).date() - timedelta(days=1)
    rows = []
    for n in range(count):
        day = yesterday - timedelta(days=n // per_day)
        stylist = stylists[(n // SLOTS_PER_DAY) % len(stylists)]
        offer = services[stylist][n % len(services[stylist])]
        start = datetime.combine(day, DAY_OPEN, tz) + timedelta(
            minutes=SLOT_MIN * (n % SLOTS_PER_DAY)
        )
        start = start.astimezone(UTC)
        end = start + timedelta(minutes=min(offer.effective_duration_min, SLOT_MIN))
        status = "cancelled" if n % 17 == 0 else "completed"
        rows.append(
            {
                "uuid": str(uuid.uuid4()),
                "stylist_id": stylist,
                "service_id": offer.service_id,
                "customer_id": customer_ids[n % len(customer_ids)],
                "customer_name": f"Cliente {n % len(customer_ids)}",  # as booked
                "start_at": start,
                "end_at": end,
                "busy_until": end,
                "status": status,
                "source": "chatbot",
                "price_cents": offer.effective_price_cents,
                "currency": "EUR",
                "version": 1,
                "created_at": start - timedelta(days=3),
                "updated_at": start - timedelta(days=3),
                "cancelled_at": start - timedelta(days=1) if status == "cancelled" else None,
                "sync_status": "synced",
            }
        )
    return rows


def make_scale_data(reservations: int, customers: int, tz: ZoneInfo) -> None:
    """Add ``customers`` customers and ``reservations`` past reservations, then ANALYZE."""
    _insert(Customer, _customers(customers))
    customer_ids = list(db.session.scalars(select(Customer.id).order_by(Customer.id)))
    _insert(Reservation, _reservation_rows(reservations, customer_ids, tz))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
