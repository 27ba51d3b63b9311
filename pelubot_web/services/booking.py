"""Bookings: create, reschedule, cancel and close reservations.

Every write runs in one transaction that (1) takes the write lock up front on SQLite
(``BEGIN IMMEDIATE``) and locks the reservation row on PostgreSQL, (2) re-checks the
slot with ``availability.check_bookable``, (3) bumps ``reservation.version`` and
(4) records the change in the calendar-sync outbox before committing. The database has
the last word on overlaps: PostgreSQL's exclusion constraint ``ex_reservations_no_overlap``
turns a concurrent overlapping insert into ``SlotTaken``; on SQLite the write lock makes
the re-check and the insert atomic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.metrics import RESERVATION_ACTIONS
from pelubot_web.models import Customer, Reservation
from pelubot_web.models.notify import NotificationKind
from pelubot_web.models.reservation import (
    CLOSING_STATUSES,
    LANGUAGES,
    SOURCES,
    ReservationStatus,
)
from pelubot_web.models.types import utcnow
from pelubot_web.services import calendar_outbox, notifications
from pelubot_web.services.accounts import normalize_email
from pelubot_web.services.availability import check_bookable
from pelubot_web.services.catalog import booking_rules, offering
from pelubot_web.services.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    NotModifiable,
    SlotTaken,
)
from pelubot_web.services.phone import normalize_phone

# Reading lives with the other read paths; kept importable from here for its callers.
from pelubot_web.services.reservation_list import get_reservation, list_reservations

__all__ = [
    "UNCHANGED",
    "CustomerInput",
    "cancel_reservation",
    "create_reservation",
    "get_reservation",
    "hash_manage_token",
    "list_reservations",
    "reschedule_reservation",
    "set_status",
]

OVERLAP_CONSTRAINT = "ex_reservations_no_overlap"
EXCLUSION_VIOLATION = "23P01"  # PostgreSQL SQLSTATE
MAX_NOTES = 1000


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final[Any] = _Unchanged()


@dataclass(frozen=True)
class CustomerInput:
    name: str
    phone: str
    email: str | None = None


@dataclass(frozen=True)
class _CleanCustomer:
    name: str
    phone: str
    email: str | None


def hash_manage_token(token: str) -> str:
    """SHA-256 of a customer's manage-my-booking token (only the hash is stored)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _clean_customer(customer: CustomerInput) -> _CleanCustomer:
    name = " ".join(customer.name.split())
    if not name or len(name) > 120:
        raise InvalidInput("name must be 1-120 characters", field="customer.name")
    phone = normalize_phone(customer.phone, field="customer.phone")
    email = None
    if customer.email is not None and customer.email.strip():
        try:
            email = normalize_email(customer.email)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field="customer.email") from None
    return _CleanCustomer(name=name, phone=phone, email=email)


def _clean_notes(notes: str | None) -> str | None:
    if notes is None:
        return None
    notes = notes.strip()
    if len(notes) > MAX_NOTES:
        raise InvalidInput(f"notes must be at most {MAX_NOTES} characters", field="notes")
    return notes or None


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(SOURCES)}", field="source")


def _is_overlap(exc: IntegrityError) -> bool:
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None) == OVERLAP_CONSTRAINT:
        return True
    return getattr(orig, "sqlstate", None) == EXCLUSION_VIOLATION or OVERLAP_CONSTRAINT in str(orig)


@contextmanager
def _write_transaction() -> Iterator[None]:
    """One booking transaction: write lock first (SQLite), commit or roll back as a unit.

    ``begin_write`` ends a read-only transaction the session holds (e.g. from
    authenticating the caller) and refuses unsaved changes.
    """
    begin_write()
    session = db.session()  # the request's Session (the scoped_session registry's)
    try:
        yield
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        if _is_overlap(exc):
            raise SlotTaken("that time was just taken by another booking", field="start") from None
        # Another unique key won a race (e.g. the same Idempotency-Key twice at once).
        raise Conflict("a concurrent request changed the same data; retry") from None
    except BaseException:
        session.rollback()
        raise


# Sources whose word on a phone's owner we take: staff screens and the chatbot (the
# messaging channel verified the phone). The public booking page proves nothing.
TRUSTED_CUSTOMER_SOURCES = frozenset({"portal", "chatbot"})


def _upsert_customer(clean: _CleanCustomer, *, may_update: bool) -> Customer:
    """The customer with this phone: created if new; name/email brought up to date only
    when ``may_update`` (a trusted source), so a stranger cannot rewrite them."""
    found: Customer | None = db.session.scalar(
        select(Customer).where(Customer.phone == clean.phone)
    )
    if found is None:
        try:
            # Savepoint: on PostgreSQL a concurrent booking may create the same phone.
            with db.session.begin_nested():
                found = Customer(name=clean.name, phone=clean.phone, email=clean.email)
                db.session.add(found)
        except IntegrityError:
            found = db.session.scalar(select(Customer).where(Customer.phone == clean.phone))
            if found is None:
                raise
    if not may_update:
        return found
    if found.name != clean.name:
        found.name = clean.name
    if clean.email and found.email != clean.email:
        found.email = clean.email
    return found


def _lock(reservation_uuid: str) -> Reservation:
    """The reservation, row-locked, with the stylist and customer every change reads."""
    reservation: Reservation | None = db.session.scalar(
        select(Reservation)
        .options(joinedload(Reservation.stylist), joinedload(Reservation.customer))
        .where(Reservation.uuid == str(reservation_uuid))
        .with_for_update(of=Reservation)
    )
    if reservation is None:
        raise NotFound(f"no reservation {reservation_uuid}")
    return reservation


def _record(reservation: Reservation, notify: NotificationKind | None) -> None:
    """Bump the version; record the change in both outboxes (calendar, notifications).

    Every committed change of a reservation, whatever its source, passes here or
    through ``create_reservation``: the one place notifications are produced.
    """
    reservation.version += 1
    db.session.flush()
    calendar_outbox.record_change(reservation)
    if notify is not None:
        notifications.record_change(reservation, notify)


def _count(action: str, source: str) -> None:
    RESERVATION_ACTIONS.labels(action, source).inc()


def create_reservation(
    *,
    service_id: int,
    stylist_id: int,
    start: datetime,
    customer: CustomerInput,
    notes: str | None,
    source: str,
    now: datetime | None = None,
    manage_token_hash: str | None = None,
    on_created: Callable[[Reservation], None] | None = None,
    language: str = "es",
) -> Reservation:
    """Book ``start`` with ``stylist_id`` for ``service_id``; returns the committed row.

    ``on_created`` runs inside the transaction after the row and its outbox entry exist
    (the API stores its idempotent response there, so both commit together).
    Raises ``SlotTaken`` (409) or an ``InvalidInput`` subclass (422), ``NotFound``.
    """
    _check_source(source)
    if language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}", field="language")
    clean = _clean_customer(customer)
    clean_notes = _clean_notes(notes)
    if start.tzinfo is None:
        raise InvalidInput("start must carry a UTC offset", field="start")
    with _write_transaction():
        offer = offering(stylist_id, service_id)
        slot = check_bookable(offer, start, now=now, rules=booking_rules())
        trusted = source in TRUSTED_CUSTOMER_SOURCES
        customer_row = _upsert_customer(clean, may_update=trusted)
        reservation = Reservation(
            stylist_id=stylist_id,
            service_id=service_id,
            customer=customer_row,
            # The booking's own details; a trusted source without an email keeps the known one.
            customer_name=clean.name,
            customer_email=clean.email or (customer_row.email if trusted else None),
            start_at=slot.start,
            end_at=slot.end,
            busy_until=slot.busy_until,
            status=ReservationStatus.CONFIRMED,
            source=source,
            notes=clean_notes,
            price_cents=slot.price_cents,
            currency=offer.service.currency,
            version=1,
            manage_token_hash=manage_token_hash,
            language=language,
        )
        db.session.add(reservation)
        db.session.flush()
        calendar_outbox.record_change(reservation, new=True)
        notifications.record_change(reservation, NotificationKind.CONFIRMATION)
        if on_created is not None:
            on_created(reservation)
    _count("create", source)
    return reservation


def reschedule_reservation(
    reservation_uuid: str,
    *,
    start: datetime | None = None,
    stylist_id: int | None = None,
    service_id: int | None = None,
    notes: str | None = UNCHANGED,
    source: str,
    now: datetime | None = None,
) -> Reservation:
    """Move a confirmed, not yet started reservation (time, stylist, service) or edit notes.

    Anything not given stays. A new slot is checked with every booking rule, ignoring
    the reservation's own current time. Nothing to change returns it untouched.
    """
    _check_source(source)
    if start is not None and start.tzinfo is None:
        raise InvalidInput("start must carry a UTC offset", field="start")
    new_notes = UNCHANGED if notes is UNCHANGED else _clean_notes(notes)
    current_time = (now or utcnow()).astimezone(UTC)
    changed = moved = False
    with _write_transaction():
        reservation = _lock(reservation_uuid)
        _ensure_modifiable(reservation, current_time)
        new_start = start.astimezone(UTC) if start is not None else reservation.start_at
        new_stylist = stylist_id if stylist_id is not None else reservation.stylist_id
        new_service = service_id if service_id is not None else reservation.service_id
        if (new_start, new_stylist, new_service) != (
            reservation.start_at,
            reservation.stylist_id,
            reservation.service_id,
        ):
            offer = offering(new_stylist, new_service)
            slot = check_bookable(
                offer, new_start, now=current_time, ignore_reservation_id=reservation.id
            )
            reservation.stylist_id = new_stylist
            reservation.service_id = new_service
            reservation.start_at = slot.start
            reservation.end_at = slot.end
            reservation.busy_until = slot.busy_until
            reservation.price_cents = slot.price_cents
            reservation.currency = offer.service.currency
            changed = moved = True
        if new_notes is not UNCHANGED and new_notes != reservation.notes:
            reservation.notes = new_notes
            changed = True
        if changed:
            _record(reservation, NotificationKind.RESCHEDULED if moved else None)
    if changed:
        _count("reschedule", source)
    return reservation


def _ensure_modifiable(reservation: Reservation, now: datetime) -> None:
    if reservation.status != ReservationStatus.CONFIRMED:
        raise NotModifiable(f"the reservation is {reservation.status}", field="status")
    if reservation.start_at <= now:
        raise NotModifiable("the appointment has already started", field="start")


def can_change(reservation: Reservation, now: datetime | None = None) -> bool:
    """Whether the reservation can still be rescheduled or cancelled (by anyone)."""
    try:
        _ensure_modifiable(reservation, (now or utcnow()).astimezone(UTC))
    except NotModifiable:
        return False
    return True


def cancel_reservation(
    reservation_uuid: str, *, source: str, now: datetime | None = None
) -> Reservation:
    """Cancel a reservation and free its slot. Cancelling a cancelled one changes nothing."""
    _check_source(source)
    current_time = (now or utcnow()).astimezone(UTC)
    changed = False
    with _write_transaction():
        reservation = _lock(reservation_uuid)
        if reservation.status != ReservationStatus.CANCELLED:
            _ensure_modifiable(reservation, current_time)
            reservation.status = ReservationStatus.CANCELLED
            reservation.cancelled_at = utcnow()
            _record(reservation, NotificationKind.CANCELLED)
            changed = True
    if changed:
        _count("cancel", source)
    return reservation


def set_status(
    reservation_uuid: str, status: str, *, source: str, now: datetime | None = None
) -> Reservation:
    """Close a started appointment as ``completed`` or ``no_show`` (portal). Idempotent."""
    _check_source(source)
    if status not in CLOSING_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(CLOSING_STATUSES)}", field="status")
    current_time = (now or utcnow()).astimezone(UTC)
    changed = False
    with _write_transaction():
        reservation = _lock(reservation_uuid)
        if reservation.status != status:
            if reservation.status != ReservationStatus.CONFIRMED:
                raise NotModifiable(f"the reservation is {reservation.status}", field="status")
            if reservation.start_at > current_time:
                raise NotModifiable("the appointment has not started yet", field="status")
            reservation.status = status
            _record(reservation, NotificationKind.STATUS_CHANGED)
            changed = True
    if changed:
        _count(status, source)
    return reservation
