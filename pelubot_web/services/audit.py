"""The audit log of staff actions on customer data (edit, merge, export, erase).

Entries name the customer by id only: the log must stay readable after an erasure and
must never become a second copy of personal data.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from pelubot_web.extensions import db
from pelubot_web.models import AuditEntry, User

__all__ = ["ACTIONS", "Actor", "list_entries", "record"]

ACTIONS = (
    "customer.update",
    "customer.notes",
    "customer.merge",
    "customer.export",
    "customer.erase",
)


@dataclass(frozen=True)
class Actor:
    """Who acts: a portal user (id and email, copied into each entry)."""

    user_id: int | None
    email: str

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user_id=user.id, email=user.email)


def record(
    actor: Actor, action: str, *, target_id: int | None, summary: str | None = None
) -> AuditEntry:
    """Add an entry to the caller's transaction (it commits with the change it records)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        actor_id=actor.user_id,
        actor_email=actor.email,
        action=action,
        target_type="customer",
        target_id=target_id,
        summary=summary,
    )
    db.session.add(entry)
    return entry


def list_entries(*, limit: int, offset: int) -> tuple[list[AuditEntry], int]:
    """A page of entries, newest first, and the total."""
    total = db.session.scalar(select(func.count(AuditEntry.id))) or 0
    page = db.session.scalars(
        select(AuditEntry)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(page), int(total)
