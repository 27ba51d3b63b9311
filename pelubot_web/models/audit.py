"""The audit log: who did what to whose data, and when (customer records, privacy)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from pelubot_web.extensions import db
from pelubot_web.models.types import UTCDateTime, utcnow


class AuditEntry(db.Model):  # type: ignore[name-defined,misc]
    """One staff action. ``summary`` never holds a customer's personal data: ids only.

    The actor's email is copied so the entry still reads after the user is deleted.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_email: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int | None]
    summary: Mapped[str | None] = mapped_column(String(200))
