"""Notification aggregate: the customer-notification outbox and the webhook endpoints.

``notifications`` has the discipline of ``calendar_sync_jobs``: rows are written in the
booking transaction, claimed conditionally by one worker, retried with backoff stored in
the row. Unlike the calendar outbox, rows never coalesce: each is one message about one
event, and the unique key (reservation, kind, event, channel, target) makes sure a
message is created, and therefore sent, at most once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pelubot_web.extensions import db
from pelubot_web.models.reservation import Reservation
from pelubot_web.models.types import UTCDateTime, utcnow


class NotificationStatus(StrEnum):
    PENDING = "pending"  # waiting for its due time (or a retry time)
    QUEUED = "queued"  # handed to RQ
    PROCESSING = "processing"  # claimed by one worker
    SENT = "sent"
    FAILED = "failed"  # permanent error or attempts exhausted
    SKIPPED = "skipped"  # no longer wanted when its time came (cancelled, moved, opted out)


OPEN_NOTIFICATION_STATUSES = (
    NotificationStatus.PENDING,
    NotificationStatus.QUEUED,
    NotificationStatus.PROCESSING,
)


class NotificationKind(StrEnum):
    CONFIRMATION = "confirmation"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    REMINDER = "reminder"
    STATUS_CHANGED = "status_changed"


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


# The webhook event type of each kind (DESIGN.md, Webhooks).
EVENT_TYPES: dict[NotificationKind, str] = {
    NotificationKind.CONFIRMATION: "reservation.created",
    NotificationKind.RESCHEDULED: "reservation.rescheduled",
    NotificationKind.CANCELLED: "reservation.cancelled",
    NotificationKind.STATUS_CHANGED: "reservation.status_changed",
    NotificationKind.REMINDER: "reservation.reminder",
}


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class WebhookEndpoint(db.Model):  # type: ignore[name-defined,misc]
    """A receiver of signed event POSTs (the chatbot, or any integration)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # HMAC key of the signature: the receiver needs it in clear, so it is stored in clear.
    secret: Mapped[str] = mapped_column(String(200))
    # Space-separated event types; empty means every event.
    event_types: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def events(self) -> list[str]:
        return self.event_types.split()

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class Notification(db.Model):  # type: ignore[name-defined,misc]
    """Outbox row: "tell <target> about <event> of reservation X, at ``available_at``"."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(_in("status", NotificationStatus), name="status_valid"),
        CheckConstraint(_in("kind", NotificationKind), name="kind_valid"),
        CheckConstraint(_in("channel", Channel), name="channel_valid"),
        UniqueConstraint(
            "reservation_id", "kind", "event_key", "channel", "target", name="uq_notifications_once"
        ),
        Index("ix_notifications_status_available", "status", "available_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reservation_id: Mapped[int] = mapped_column(
        ForeignKey("reservations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    # Which event: "v<version>" for a change, "<hours>h@<start unix>" for a reminder.
    event_key: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    # "customer" for email, "endpoint:<id>" for a webhook endpoint.
    target: Mapped[str] = mapped_column(String(40))
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    # Webhook event id: the same on every attempt, so receivers deduplicate.
    event_id: Mapped[str] = mapped_column(String(36), default=lambda: str(uuid.uuid4()))
    status: Mapped[str] = mapped_column(String(20), default=NotificationStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    # A webhook's body, fixed at the first attempt so every retry sends the same bytes.
    payload: Mapped[str | None] = mapped_column(Text)
    # Hashes of the links minted for this email (the tokens themselves are never stored).
    manage_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    unsubscribe_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    reservation: Mapped[Reservation] = relationship()
    endpoint: Mapped[WebhookEndpoint | None] = relationship()
