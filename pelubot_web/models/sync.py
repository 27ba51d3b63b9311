"""Calendar sync aggregate: the outbox of jobs and the busy time imported from Google."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pelubot_web.extensions import db
from pelubot_web.models.catalog import Stylist
from pelubot_web.models.outbox import OPEN_OUTBOX_STATUSES, OutboxStatus
from pelubot_web.models.reservation import Reservation
from pelubot_web.models.types import UTCDateTime, sql_in, utcnow

_OPEN_ROW = sql_in("status", OPEN_OUTBOX_STATUSES)


class CalendarSyncJob(db.Model):  # type: ignore[name-defined,misc]
    """Outbox row: "make Google match reservation X at version >= N".

    At most one open row (pending, queued, processing) exists per reservation; later
    changes raise ``target_version`` on it instead of adding rows.
    """

    __tablename__ = "calendar_sync_jobs"
    __table_args__ = (
        CheckConstraint(sql_in("status", tuple(OutboxStatus)), name="status_valid"),
        Index("ix_calendar_sync_jobs_status_available", "status", "available_at"),
        Index(
            "uq_calendar_sync_jobs_open_per_reservation",
            "reservation_id",
            unique=True,
            sqlite_where=text(_OPEN_ROW),
            postgresql_where=text(_OPEN_ROW),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reservation_id: Mapped[int] = mapped_column(
        ForeignKey("reservations.id", ondelete="CASCADE"), index=True
    )
    target_version: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    # When the change that this row carries was committed (for the sync-lag metric).
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    reservation: Mapped[Reservation] = relationship()


class ExternalBusy(db.Model):  # type: ignore[name-defined,misc]
    """A busy block from a stylist's Google Calendar that PeluBot did not create."""

    __tablename__ = "external_busy"
    __table_args__ = (
        UniqueConstraint("calendar_id", "event_id", name="uq_external_busy_calendar_event"),
        Index("ix_external_busy_stylist_start", "stylist_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stylist_id: Mapped[int] = mapped_column(ForeignKey("stylists.id", ondelete="CASCADE"))
    calendar_id: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[str] = mapped_column(String(1024))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    summary: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    stylist: Mapped[Stylist] = relationship()


class CalendarPullState(db.Model):  # type: ignore[name-defined,misc]
    """Incremental-sync cursor of one stylist calendar (Google ``nextSyncToken``)."""

    __tablename__ = "calendar_pull_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    stylist_id: Mapped[int] = mapped_column(
        ForeignKey("stylists.id", ondelete="CASCADE"), unique=True
    )
    calendar_id: Mapped[str] = mapped_column(String(255))
    sync_token: Mapped[str | None] = mapped_column(Text)
    last_pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_full_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set at the first failed pull after a success, cleared by the next success.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
