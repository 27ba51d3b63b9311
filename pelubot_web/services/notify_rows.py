"""What notification rows a reservation change produces (read-only; nothing is written).

``services.notifications.record_change`` adds these rows in the booking transaction and
owns every status change afterwards. The email decision (``wants_email``) is also what
the worker re-checks at send time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from pelubot_web.config import current_config
from pelubot_web.extensions import db
from pelubot_web.models import Notification, Reservation, WebhookEndpoint
from pelubot_web.models.notify import EVENT_TYPES, Channel, NotificationKind, NotificationStatus
from pelubot_web.services.notify_plan import EMAIL_KINDS, OPTIONAL_EMAIL_KINDS, plan_reminders

__all__ = ["ChangeRows", "active_endpoints", "rows_for_change", "wants_email"]


@dataclass(frozen=True)
class ChangeRows:
    rows: list[Notification]
    # Reminder event keys of the current appointment time (open ones are kept).
    keep: set[str]


def rows_for_change(reservation: Reservation, kind: NotificationKind, now: datetime) -> ChangeRows:
    """The change notice (per channel) and, for a booking or a move, the reminders of the
    current time that do not exist yet."""
    cfg = current_config()
    planned = []
    if kind in (NotificationKind.CONFIRMATION, NotificationKind.RESCHEDULED):
        planned = plan_reminders(
            reservation.start_at, now, cfg.reminder_hours, cfg.quiet_hours, cfg.tz
        )
    # A confirmation is the booking itself (create_reservation): no reminders exist yet;
    # other changes plan none to compare with.
    new = kind is NotificationKind.CONFIRMATION
    existing = _reminder_keys(reservation.id) if planned and not new else set()
    endpoints = active_endpoints()
    rows = _rows_for(reservation, kind, f"v{reservation.version}", now, now, endpoints)
    for plan in planned:
        if plan.event_key not in existing:
            rows += _rows_for(
                reservation, NotificationKind.REMINDER, plan.event_key, plan.due_at, now, endpoints
            )
    return ChangeRows(rows, {plan.event_key for plan in planned})


def _rows_for(
    reservation: Reservation,
    kind: NotificationKind,
    event_key: str,
    due: datetime,
    now: datetime,
    endpoints: list[WebhookEndpoint],
) -> list[Notification]:
    cfg = current_config()
    base: dict[str, Any] = {
        "reservation_id": reservation.id,
        "kind": kind,
        "event_key": event_key,
        "status": NotificationStatus.PENDING,
        "max_attempts": cfg.notify_max_attempts,
        "due_at": due,
        "available_at": due,
        "created_at": now,
    }
    rows = []
    if wants_email(reservation, kind):
        rows.append(Notification(channel=Channel.EMAIL, target="customer", **base))
    event_type = EVENT_TYPES[kind]
    for endpoint in endpoints:
        if endpoint.wants(event_type):
            rows.append(
                Notification(
                    channel=Channel.WEBHOOK,
                    target=f"endpoint:{endpoint.id}",
                    endpoint_id=endpoint.id,
                    **base,
                )
            )
    return rows


def wants_email(reservation: Reservation, kind: NotificationKind | str) -> bool:
    """Whether the customer gets an email of this kind now (also re-checked at send time)."""
    cfg = current_config()
    customer = reservation.customer
    # The address the booking was made with (the customer record may change later).
    if cfg.mail_backend == "disabled" or not reservation.customer_email or kind not in EMAIL_KINDS:
        return False
    return not (customer.email_opt_out_at is not None and kind in OPTIONAL_EMAIL_KINDS)


def active_endpoints() -> list[WebhookEndpoint]:
    return list(
        db.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.active.is_(True))
            .order_by(WebhookEndpoint.id)
        )
    )


def _reminder_keys(reservation_id: int) -> set[str]:
    return set(
        db.session.scalars(
            select(Notification.event_key).where(
                Notification.reservation_id == reservation_id,
                Notification.kind == NotificationKind.REMINDER,
            )
        )
    )
