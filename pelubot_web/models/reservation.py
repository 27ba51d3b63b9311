"""Reservation aggregate: customers, reservations and idempotency records of the API."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pelubot_web.extensions import db
from pelubot_web.models.catalog import Service, Stylist
from pelubot_web.models.types import UTCDateTime, sql_in, utcnow

if TYPE_CHECKING:
    from pelubot_web.models.sync import CalendarSyncJob


class ReservationStatus(StrEnum):
    """Life cycle of a reservation; only ``confirmed`` ones can still change."""

    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"


# Reservations in these states occupy the stylist's time and keep a calendar event.
LIVE_STATUSES = (
    ReservationStatus.CONFIRMED,
    ReservationStatus.COMPLETED,
    ReservationStatus.NO_SHOW,
)
# What staff can close a past confirmed reservation as.
CLOSING_STATUSES = (ReservationStatus.COMPLETED, ReservationStatus.NO_SHOW)


class SyncStatus(StrEnum):
    """Where a reservation stands with Google Calendar (written by the calendar outbox)."""

    PENDING = "pending"
    SYNCED = "synced"
    FAILED = "failed"
    NOT_REQUIRED = "not_required"


SOURCES = ("chatbot", "portal", "booking_page")
LANGUAGES = ("es", "en")


def fold_text(value: str) -> str:
    """Lowercase without accents (``"Lucía Núñez"`` -> ``"lucia nunez"``): the same on
    SQLite and PostgreSQL, so search needs no database extension such as unaccent."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


class Customer(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20), unique=True)  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    # Set when the customer unsubscribed from reminders and change notices (one click).
    email_opt_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # " <folded name> ": kept in step with ``name`` by the hooks below, so every writer
    # (booking, desk, API, tests) leaves it right; word-prefix search uses LIKE '% word%'.
    search_name: Mapped[str] = mapped_column(String(130), default="", index=True)
    # Private notes of the salon staff (e.g. colour formula); never shown to the customer.
    staff_notes: Mapped[str | None] = mapped_column(Text)
    # Set when the customer's personal data was erased (the record stays for the books).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _fold_customer_name(_mapper: object, _connection: object, customer: Customer) -> None:
    customer.search_name = f" {fold_text(customer.name or '')} "


class Reservation(db.Model):  # type: ignore[name-defined,misc]
    """A booked appointment. Times are UTC, half-open ``[start_at, end_at)``.

    ``busy_until`` is ``end_at`` plus the salon's buffer: the stylist is unavailable
    until then, and the no-overlap guarantee is enforced on ``[start_at, busy_until)``.
    """

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="start_before_end"),
        CheckConstraint("end_at <= busy_until", name="busy_covers_service"),
        CheckConstraint(sql_in("status", tuple(ReservationStatus)), name="status_valid"),
        CheckConstraint(sql_in("source", SOURCES), name="source_valid"),
        CheckConstraint(sql_in("sync_status", tuple(SyncStatus)), name="sync_status_valid"),
        # List order is (start_at, id): with id in each index, a page's ids come from an
        # index-only scan and a keyset cursor seeks (migration 0007_perf).
        Index("ix_reservations_stylist_start_id", "stylist_id", "start_at", "id"),
        Index("ix_reservations_start", "start_at", "id"),
        Index("ix_reservations_status_start_id", "status", "start_at", "id"),
        # Availability reads a stylist's rows with busy_until > window start: history (the
        # bulk of the table) ends before it, so this stays small at any table size.
        Index("ix_reservations_stylist_busy_until", "stylist_id", "busy_until"),
        # PostgreSQL: the database itself refuses overlapping live reservations of a stylist.
        ExcludeConstraint(
            ("stylist_id", "="),
            (text("tstzrange(start_at, busy_until, '[)')"), "&&"),
            name="ex_reservations_no_overlap",
            using="gist",
            where=text(f"status <> '{ReservationStatus.CANCELLED}'"),
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    stylist_id: Mapped[int] = mapped_column(ForeignKey("stylists.id", ondelete="RESTRICT"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="RESTRICT"))
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="RESTRICT"), index=True
    )
    # What this booking was given: the phone is not proof of identity, so a booking
    # never rewrites what staff and Google show for the customer's other reservations.
    customer_name: Mapped[str] = mapped_column(String(120))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    busy_until: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default=ReservationStatus.CONFIRMED)
    source: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    # Bumped on every change; the calendar sync job targets a version.
    version: Mapped[int] = mapped_column(default=1)
    # SHA-256 of the customer's manage-my-booking token (the token itself is never stored).
    manage_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The language the customer booked in: their emails are written in it.
    language: Mapped[str] = mapped_column(String(5), default="es", server_default="es")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Calendar sync state, written by every sync outcome.
    sync_status: Mapped[str] = mapped_column(String(20), default=SyncStatus.PENDING)
    sync_job_id: Mapped[int | None]
    last_sync_error: Mapped[str | None] = mapped_column(Text)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Where the event lives in Google now (to move it when the stylist changes).
    synced_calendar_id: Mapped[str | None] = mapped_column(String(255))
    synced_version: Mapped[int | None]
    # The Google event id in use (base id, or a later generation once Google purged one).
    gcal_event_id: Mapped[str | None] = mapped_column(String(1024))

    stylist: Mapped[Stylist] = relationship()
    service: Mapped[Service] = relationship()
    customer: Mapped[Customer] = relationship()
    # The outbox row carrying the latest change (``sync_job_id``, no FK: rows are pruned
    # independently). Read-only: only ``calendar_outbox`` moves ``sync_job_id``.
    sync_job: Mapped[CalendarSyncJob | None] = relationship(
        primaryjoin="foreign(Reservation.sync_job_id) == CalendarSyncJob.id",
        viewonly=True,
    )

    @property
    def is_live(self) -> bool:
        return self.status != ReservationStatus.CANCELLED

    @property
    def customer_first_name(self) -> str:
        return self.customer_name.split()[0] if self.customer_name.strip() else self.customer_name

    @property
    def name_differs_from_customer(self) -> bool:
        """Staff see a marker when the booking's name is not the customer record's."""
        return self.customer_name != self.customer.name


class IdempotencyRecord(db.Model):  # type: ignore[name-defined,misc]
    """The stored response of a POST made with an ``Idempotency-Key`` header."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("principal", "key", name="uq_idempotency_principal_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
