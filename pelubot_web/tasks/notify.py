"""Send one notification: what RQ runs for each due row of the notification outbox.

``send_notification(id)`` claims the row (one worker wins), re-checks that the message
is still wanted *now* (no reminder for a cancelled or moved booking, none to a customer
who unsubscribed, none to a disabled endpoint), sends it and records the outcome
through ``services.notifications`` (which owns every status change). Sending takes at
most the SMTP / webhook timeout, well under the stale-claim threshold, so no heartbeat
thread is needed.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from pelubot_web.api.schemas import ReservationSchema, SalonDateTime
from pelubot_web.config import current_config
from pelubot_web.extensions import db
from pelubot_web.mail import parse_smtp_url, send_mail
from pelubot_web.mail.compose import Links, compose_email
from pelubot_web.models import Notification, Reservation
from pelubot_web.models.notify import EVENT_TYPES, Channel, NotificationKind
from pelubot_web.models.types import utcnow
from pelubot_web.observability import job_id_var
from pelubot_web.services import notifications, notify_rows, webhooks
from pelubot_web.services.errors import DeliveryError
from pelubot_web.services.manage_links import new_manage_token
from pelubot_web.services.notify_plan import OPTIONAL_EMAIL_KINDS, start_of_reminder_key
from pelubot_web.tasks.runtime import worker_identity

log = logging.getLogger(__name__)

K = NotificationKind


def send_notification(notification_id: int) -> str:
    """RQ entry point (needs an app context: the worker pushes one)."""
    token = job_id_var.set(f"notify-{notification_id}")
    try:
        return deliver(notification_id, worker_identity())
    finally:
        db.session.remove()
        job_id_var.reset(token)


def deliver(notification_id: int, worker: str, now: datetime | None = None) -> str:
    """Claim, re-check, send, record. Returns the outcome (``now`` is injectable for tests)."""
    started = now or utcnow()
    if not notifications.claim(notification_id, worker, started):
        log.info("notification not claimable", extra={"notification_id": notification_id})
        return "not_claimed"
    row = db.session.get(Notification, notification_id)
    assert row is not None
    reason = unwanted_reason(row, started)
    if reason:
        notifications.mark_skipped(row, worker, reason, now or utcnow())
        return "skipped"
    try:
        if row.channel == Channel.EMAIL:
            _send_email(row, worker)
        else:
            _send_webhook(row, worker, started)
    except DeliveryError as exc:
        db.session.rollback()
        if exc.gone and row.endpoint_id is not None:
            webhooks.disable_endpoint(row.endpoint_id, exc.message)
        return notifications.mark_failure(
            row, worker, exc.message, retryable=exc.retryable, now=now or utcnow()
        )
    except Exception as exc:  # a bug is recorded, retried and visible, never lost
        log.exception("unexpected error while notifying", extra={"notification_id": row.id})
        return notifications.mark_failure(
            row,
            worker,
            f"internal error: {type(exc).__name__}: {exc}",
            retryable=True,
            now=now or utcnow(),
        )
    notifications.mark_sent(row, worker, now or utcnow())
    return "sent"


def unwanted_reason(row: Notification, now: datetime) -> str | None:
    """Why this message must not go out any more (state re-checked at send time)."""
    reservation: Reservation = row.reservation
    if row.kind == K.REMINDER:
        if reservation.status != "confirmed":
            return f"reservation is {reservation.status}"
        if start_of_reminder_key(row.event_key) != int(reservation.start_at.timestamp()):
            return "appointment was moved"
        if reservation.start_at <= now:
            return "appointment already started"
    elif (
        row.kind in (K.CONFIRMATION, K.RESCHEDULED)
        and reservation.status == "cancelled"
        and row.channel == Channel.EMAIL
    ):
        return "reservation was cancelled meanwhile"
    if row.channel == Channel.EMAIL:
        return None if notify_rows.wants_email(reservation, row.kind) else "customer gets no email"
    endpoint = row.endpoint
    if endpoint is None or not endpoint.active:
        return "webhook endpoint is disabled"
    return None


def _send_email(row: Notification, worker: str) -> None:
    cfg = current_config()
    manage_token = unsubscribe_token = None
    hashes: dict[str, str] = {}
    if row.kind != K.CANCELLED:
        manage_token, hashes["manage_token_hash"] = new_manage_token()
    if row.kind in OPTIONAL_EMAIL_KINDS:
        unsubscribe_token, hashes["unsubscribe_token_hash"] = new_manage_token()
    # Links first, then the email: a link in a sent email always works.
    if hashes and not notifications.save_for_attempts(row.id, worker, **hashes):
        raise DeliveryError("notification was taken from this worker", retryable=True)
    db.session.refresh(row)
    message = compose_email(row, Links(manage_token, unsubscribe_token))
    if cfg.mail_backend == "log":
        log.info(
            "email (log backend, not sent)",
            extra={"notification_id": row.id, "to": message["To"], "subject": message["Subject"]},
        )
        return
    send_mail(message, parse_smtp_url(cfg.smtp_url or "", cfg.smtp_timeout_s))


def event_payload(row: Notification) -> str:
    """The event body: fixed at the first attempt, so every attempt sends the same bytes."""
    body = {
        "id": row.event_id,
        "type": EVENT_TYPES[K(row.kind)],
        "created_at": SalonDateTime()._serialize(row.created_at, None, None),
        "data": {"reservation": ReservationSchema().dump(row.reservation)},
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _send_webhook(row: Notification, worker: str, now: datetime) -> None:
    cfg = current_config()
    endpoint = row.endpoint
    assert endpoint is not None
    payload = row.payload
    if payload is None:
        payload = event_payload(row)
        if not notifications.save_for_attempts(row.id, worker, payload=payload):
            raise DeliveryError("notification was taken from this worker", retryable=True)
    url, secret = endpoint.url, endpoint.secret
    db.session.rollback()  # hold no transaction while waiting on the receiver
    webhooks.post_event(
        webhooks.Delivery(
            url=url,
            secret=secret,
            event_type=EVENT_TYPES[K(row.kind)],
            body=payload.encode("utf-8"),
            timeout_s=cfg.webhook_timeout_s,
        ),
        now=now.timestamp(),
    )
