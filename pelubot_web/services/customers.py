"""Customer records for the front desk: search, contact details, history, staff notes,
merging duplicates. Every change is written to the audit log in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.models import Customer, Reservation
from pelubot_web.models.reservation import ReservationStatus, fold_text
from pelubot_web.models.types import utcnow
from pelubot_web.services import audit, calendar_outbox
from pelubot_web.services.accounts import normalize_email
from pelubot_web.services.errors import Conflict, InvalidInput, NotFound
from pelubot_web.services.phone import DEFAULT_REGION, normalize_phone

__all__ = [
    "ContactInput",
    "CustomerHistory",
    "customer_write",
    "get_customer",
    "locked_reservations",
    "history",
    "merge_customers",
    "resync_reservations",
    "search_customers",
    "set_staff_notes",
    "update_contact",
]

MAX_RESULTS = 20
MAX_STAFF_NOTES = 4000
# Spain's country code: "655 44" typed at the desk is the start of +34 655 44...
_COUNTRY_CODE = "34" if DEFAULT_REGION == "ES" else ""
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[^\W_]+")
_PHONE_LIKE = re.compile(r"^[\d\s+().-]+$")


def search_customers(query: str, *, limit: int = MAX_RESULTS) -> list[Customer]:
    """Customers whose name has words starting with the query's words (accents and
    case ignored) or whose phone starts with the typed digits, with or without the
    country code. Erased customers are left out. An empty query finds nobody."""
    text = (query or "").strip()[:100]
    conditions = []
    if _PHONE_LIKE.match(text):
        digits = "".join(_DIGITS.findall(text))
        if len(digits) < 2:
            return []
        conditions.append(
            or_(
                Customer.phone.like(f"+{digits}%"),
                Customer.phone.like(f"+{_COUNTRY_CODE}{digits}%"),
            )
        )
    else:
        words = _WORD.findall(fold_text(text))
        if not words:
            return []
        conditions.extend(Customer.search_name.like(f"% {word}%") for word in words)
    return list(
        db.session.scalars(
            select(Customer)
            .where(*conditions, Customer.erased_at.is_(None))
            .order_by(Customer.name, Customer.id)
            .limit(limit)
        )
    )


def get_customer(customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}", field="customer_id")
    return customer


@dataclass
class CustomerHistory:
    """A customer's reservations split around now, with counts of how visits ended."""

    upcoming: list[Reservation] = field(default_factory=list)
    past: list[Reservation] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def history(customer_id: int, *, now: datetime | None = None) -> CustomerHistory:
    """Every reservation of the customer: upcoming (soonest first), past (latest first)."""
    now = (now or utcnow()).astimezone(UTC)
    reservations = db.session.scalars(
        select(Reservation)
        .options(selectinload(Reservation.service), selectinload(Reservation.stylist))
        .where(Reservation.customer_id == customer_id)
        .order_by(Reservation.start_at, Reservation.id)
    )
    result = CustomerHistory(
        counts={
            status: 0
            for status in (
                ReservationStatus.COMPLETED,
                ReservationStatus.CANCELLED,
                ReservationStatus.NO_SHOW,
            )
        }
    )
    for reservation in reservations:
        if reservation.status in result.counts:
            result.counts[reservation.status] += 1
        if reservation.start_at >= now and reservation.status == ReservationStatus.CONFIRMED:
            result.upcoming.append(reservation)
        else:
            result.past.append(reservation)
    result.past.reverse()
    return result


@contextmanager
def customer_write() -> Iterator[None]:
    """One transaction that changes customer data: the write lock first (SQLite), then
    commit, or roll back on any error. The audit entry is added inside it."""
    begin_write()
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


@dataclass(frozen=True)
class ContactInput:
    name: str
    phone: str
    email: str | None


def _clean_contact(contact: ContactInput) -> ContactInput:
    name = " ".join(contact.name.split())
    if not name or len(name) > 120:
        raise InvalidInput("name must be 1-120 characters", field="name")
    phone = normalize_phone(contact.phone, field="phone")
    email = normalize_email(contact.email) if contact.email and contact.email.strip() else None
    return ContactInput(name=name, phone=phone, email=email)


def locked_reservations(customer_id: int) -> list[Reservation]:
    """Every reservation of the customer, locked for the change (``FOR UPDATE``)."""
    return list(
        db.session.scalars(
            select(Reservation)
            .where(Reservation.customer_id == customer_id)
            .order_by(Reservation.id)
            .with_for_update()
        )
    )


def resync_reservations(reservations: list[Reservation]) -> None:
    """The customer's details changed: their calendar events must show the new text.

    Call inside the transaction that made the change (each reservation's version moves
    on, so a worker that was syncing the old text will not mark it synced)."""
    for reservation in reservations:
        reservation.version += 1
        db.session.flush()
        calendar_outbox.record_change(reservation)


def update_contact(customer_id: int, contact: ContactInput, *, actor: audit.Actor) -> Customer:
    """Edit name, phone and email. Another customer's phone is a ``Conflict`` on
    ``phone`` (merge the two instead). Calendar events follow the new details."""
    clean = _clean_contact(contact)
    with customer_write():
        customer = get_customer(customer_id)
        taken = db.session.scalar(
            select(Customer.id).where(Customer.phone == clean.phone, Customer.id != customer.id)
        )
        if taken is not None:
            raise Conflict("another customer has this phone; merge them instead", field="phone")
        before = (customer.name, customer.phone, customer.email)
        customer.name, customer.phone, customer.email = clean.name, clean.phone, clean.email
        if before != (clean.name, clean.phone, clean.email):
            resync_reservations(locked_reservations(customer.id))
            audit.record(actor, "customer.update", target_id=customer.id)
    return customer


def set_staff_notes(customer_id: int, notes: str, *, actor: audit.Actor) -> Customer:
    """Replace the private staff notes (colour formula, allergies, preferences)."""
    text = (notes or "").strip()
    if len(text) > MAX_STAFF_NOTES:
        raise InvalidInput(f"notes must be at most {MAX_STAFF_NOTES} characters", field="notes")
    with customer_write():
        customer = get_customer(customer_id)
        if (customer.staff_notes or "") != text:
            customer.staff_notes = text or None
            audit.record(actor, "customer.notes", target_id=customer.id)
    return customer


def merge_customers(keep_id: int, duplicate_id: int, *, actor: audit.Actor) -> Customer:
    """Fold ``duplicate_id`` into ``keep_id``: every reservation moves over, staff notes
    are joined, a missing email is taken; the duplicate record is deleted.

    The kept record's name and phone stay (the duplicate's phone is noted in the staff
    notes so the second number is not lost)."""
    if keep_id == duplicate_id:
        raise InvalidInput("choose two different customers", field="duplicate_id")
    with customer_write():
        keep, duplicate = get_customer(keep_id), get_customer(duplicate_id)
        if keep.erased_at is not None or duplicate.erased_at is not None:
            raise InvalidInput("an erased customer cannot be merged", field="duplicate_id")
        moved = locked_reservations(duplicate.id)
        for reservation in moved:
            reservation.customer_id = keep.id
        notes = [keep.staff_notes, duplicate.staff_notes, f"+ {duplicate.phone}"]
        keep.staff_notes = "\n".join(n for n in notes if n)[:MAX_STAFF_NOTES]
        keep.email = keep.email or duplicate.email
        db.session.flush()
        db.session.delete(duplicate)
        resync_reservations(moved)
        audit.record(
            actor,
            "customer.merge",
            target_id=keep.id,
            summary=f"#{duplicate_id} -> #{keep_id}, {len(moved)} reservations",
        )
    return keep
