"""A customer's rights over their data: export everything we hold, or erase it.

``PERSONAL_COLUMNS`` is the one list of every column that holds a customer's personal
data; export and erase both read it, and a test fails when a table gains a text column
that is in neither list (so a new column must be classified here).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update

from pelubot_web.extensions import db
from pelubot_web.models import Customer, IdempotencyRecord, Notification, Reservation
from pelubot_web.models.types import utcnow
from pelubot_web.services import audit
from pelubot_web.services.customers import (
    customer_write,
    get_customer,
    locked_reservations,
    resync_reservations,
)

__all__ = ["ERASED_NAME", "NOT_PERSONAL", "PERSONAL_COLUMNS", "erase_customer", "export_customer"]

# table -> columns holding the customer's own words or identifiers.
PERSONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("name", "phone", "email", "staff_notes", "search_name"),
    "reservations": ("notes", "customer_name", "customer_email"),
    # A webhook body repeats the reservation; an SMTP refusal may quote the address.
    "notifications": ("payload", "last_error"),
}
# Text columns of the same tables that are not personal (ids, states, technical text).
NOT_PERSONAL: dict[str, tuple[str, ...]] = {
    "customers": (),
    "reservations": (
        "uuid",
        "status",
        "source",
        "currency",
        "manage_token_hash",
        "sync_status",
        "last_sync_error",
        "synced_calendar_id",
        "gcal_event_id",
        "language",  # es / en: how to write to them, not who they are
    ),
    "notifications": (
        "kind",
        "event_key",
        "channel",
        "target",
        "event_id",
        "status",
        "locked_by",
        "manage_token_hash",
        "unsubscribe_token_hash",
    ),
}
ERASED_NAME = "Anónimo"  # what the salon's books and Google events show afterwards
_RESERVATION_FACTS = (
    "uuid",
    "start_at",
    "end_at",
    "status",
    "source",
    "price_cents",
    "currency",
    "created_at",
    "cancelled_at",
)


def _value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def export_customer(customer_id: int, *, actor: audit.Actor) -> dict[str, Any]:
    """Everything PeluBot holds about one customer, as JSON-ready data (audited)."""
    with customer_write():
        customer = get_customer(customer_id)
        reservations = db.session.scalars(
            select(Reservation)
            .where(Reservation.customer_id == customer.id)
            .order_by(Reservation.start_at, Reservation.id)
        )
        data: dict[str, Any] = {
            "customer": {
                "id": customer.id,
                "created_at": _value(customer.created_at),
                "erased_at": _value(customer.erased_at),
                **{
                    col: getattr(customer, col)
                    for col in PERSONAL_COLUMNS["customers"]
                    if col != "search_name"
                },
            },
            "reservations": [
                {
                    **{col: _value(getattr(r, col)) for col in _RESERVATION_FACTS},
                    "service": r.service.name,
                    "stylist": r.stylist.name,
                    **{col: getattr(r, col) for col in PERSONAL_COLUMNS["reservations"]},
                }
                for r in reservations
            ],
        }
        data["notifications"] = _sent_to(customer.id)
        audit.record(actor, "customer.export", target_id=customer.id)
    return data


def _sent_to(customer_id: int) -> list[dict[str, Any]]:
    """What was sent about the customer's reservations (kind, channel, outcome, when)."""
    rows = db.session.scalars(
        select(Notification)
        .join(Reservation, Reservation.id == Notification.reservation_id)
        .where(Reservation.customer_id == customer_id)
        .order_by(Notification.id)
    )
    return [
        {
            "reservation": n.reservation.uuid,
            "kind": n.kind,
            "channel": n.channel,
            "status": n.status,
            "sent_at": _value(n.sent_at),
        }
        for n in rows
    ]


def _scrub(customer: Customer, reservations: list[Reservation]) -> None:
    """Overwrite every personal column (see ``PERSONAL_COLUMNS``)."""
    customer.name = ERASED_NAME
    customer.phone = f"erased-{customer.id}"  # unique, and not a phone number
    customer.email = None
    customer.staff_notes = None
    customer.erased_at = utcnow()
    db.session.execute(
        update(Notification)
        .where(Notification.reservation_id.in_([r.id for r in reservations]))
        .values(payload=None, last_error=None)
    )
    for reservation in reservations:
        reservation.notes = None
        reservation.customer_name = ERASED_NAME
        reservation.customer_email = None


def erase_customer(customer_id: int, *, actor: audit.Actor) -> Customer:
    """Anonymise a customer and their reservations' personal text, keeping the
    reservations' times and prices for the salon's books. Their Google events are
    re-synced through the outbox so they drop the name; stored API responses that
    repeat the customer's details are deleted. Erasing twice changes nothing."""
    with customer_write():
        customer = get_customer(customer_id)
        if customer.erased_at is None:
            reservations = locked_reservations(customer.id)
            _scrub(customer, reservations)
            _forget_stored_responses(reservations)
            resync_reservations(reservations)
            audit.record(
                actor,
                "customer.erase",
                target_id=customer.id,
                summary=f"{len(reservations)} reservations anonymised",
            )
    return customer


def _forget_stored_responses(reservations: list[Reservation]) -> None:
    """Idempotent replays store the booking's response body, customer included."""
    if not reservations:
        return
    db.session.execute(
        delete(IdempotencyRecord)
        .where(or_(*(IdempotencyRecord.response_body.contains(r.uuid) for r in reservations)))
        .execution_options(synchronize_session=False)
    )
