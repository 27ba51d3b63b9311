"""The notification outbox. This module owns every status transition of a notification.

Same discipline as the calendar outbox (docs/architecture.md, Notifications):

- ``record_change`` runs inside the booking transaction and adds one row per message
  (reservation × kind × event × channel × target, unique), so messages commit or roll
  back with the change and none is created twice;
- after commit, rows already due are pushed to RQ; future reminders, rows left behind
  by a Redis outage and rows whose RQ job Redis lost are pushed by the dispatcher
  (``enqueue_due``);
- a worker ``claim``s a row with a conditional UPDATE, then ends it with ``mark_sent``,
  ``mark_skipped`` or ``mark_failure`` (retry with capped, jittered backoff stored in
  the row, or ``failed``), each conditional on still owning the row;
- ``recover_stale`` gives rows of dead workers back; ``retry`` re-opens failed rows.

The mechanics of each step are ``services/outbox.py``'s, driven by ``SPEC``; the rules
(which rows a change makes, what is skipped, what counts as sent) are this module's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.metrics import NOTIFICATION_LAG, NOTIFICATIONS
from pelubot_web.models import Notification, Reservation
from pelubot_web.models.notify import (
    Channel,
    NotificationKind,
    NotificationStatus,
)
from pelubot_web.models.types import utcnow
from pelubot_web.services import outbox, outbox_sweeps
from pelubot_web.services.notify_plan import OPTIONAL_EMAIL_KINDS
from pelubot_web.services.notify_rows import rows_for_change

log = logging.getLogger(__name__)

__all__ = [
    "claim",
    "enqueue_due",
    "mark_failure",
    "mark_sent",
    "mark_skipped",
    "record_change",
    "recover_stale",
    "retry",
]

S = NotificationStatus
WAITING = (S.PENDING, S.QUEUED)
SPEC = outbox.OutboxSpec(
    name="notification",
    model=Notification,
    pending=S.PENDING,
    queued=S.QUEUED,
    processing=S.PROCESSING,
    failed=S.FAILED,
    task_path="pelubot_web.tasks.notify.send_notification",
    queue_name=lambda cfg: cfg.notify_queue_name,
    # Re-enqueues of one attempt deduplicate; a retry is a new job.
    job_id_format="notify-{id}-a{key}",
    job_key="attempts",
    job_timeout_s=120,
    backoff_s=lambda cfg: (cfg.notify_backoff_base_s, cfg.notify_backoff_cap_s),
    activity="sending",
    log_key="notification_id",
)


# --- in the booking transaction ----------------------------------------------------------


def record_change(
    reservation: Reservation, kind: NotificationKind, *, now: datetime | None = None
) -> list[Notification]:
    """Add the rows this change produces. Call after ``reservation.version`` was bumped.

    A move or cancellation first skips the open reminders of the old time; a move (or
    the booking itself) then plans the reminders of the current time.
    """
    now = now or utcnow()
    change = rows_for_change(reservation, kind, now)
    if kind is not NotificationKind.CONFIRMATION:
        # Reminders of the current time survive a stylist or service change.
        _skip_open_reminders(reservation.id, change.keep, f"superseded by {kind}", now)
    rows = change.rows
    for row in rows:
        db.session.add(row)
    db.session.flush()
    for row in rows:
        if row.available_at <= now:
            outbox.enqueue_after_commit(SPEC, row.id, 0)  # no attempt made yet
    return rows


def _skip_open_reminders(reservation_id: int, keep: set[str], reason: str, now: datetime) -> None:
    # A reminder already claimed re-checks the reservation before sending.
    db.session.execute(
        update(Notification)
        .where(
            Notification.reservation_id == reservation_id,
            Notification.kind == NotificationKind.REMINDER,
            Notification.status.in_(WAITING),
            Notification.event_key.not_in(keep),
        )
        .values(status=S.SKIPPED, last_error=reason, finished_at=now)
        .execution_options(synchronize_session=False)
    )


def skip_optional_emails_of(customer_id: int, now: datetime) -> int:
    """After an unsubscribe: waiting reminders and notices to this customer are dropped."""
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.channel == Channel.EMAIL,
            Notification.kind.in_(OPTIONAL_EMAIL_KINDS),
            Notification.status.in_(WAITING),
            Notification.reservation_id.in_(
                select(Reservation.id).where(Reservation.customer_id == customer_id)
            ),
        )
        .values(status=S.SKIPPED, last_error="customer unsubscribed", finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- dispatcher side ----------------------------------------------------------------------


def enqueue_due() -> int:
    """Push due rows (reminders whose time came, retries, rows a Redis outage left behind)
    and re-push queued rows whose RQ job Redis lost."""
    return outbox_sweeps.enqueue_due(SPEC)


def recover_stale(owner_gone: Callable[[str | None], bool]) -> int:
    """Give rows of dead workers back (or fail them when out of attempts)."""
    return outbox_sweeps.recover_stale(SPEC, owner_gone)


# --- worker side ---------------------------------------------------------------------------


def claim(notification_id: int, worker: str, now: datetime) -> bool:
    """Conditional UPDATE: exactly one worker moves a due row to processing."""
    return outbox.claim(SPEC, notification_id, worker, now)


def save_for_attempts(notification_id: int, worker: str, **values: Any) -> bool:
    """Store what must stay the same on every attempt (payload, link hashes) before sending."""
    begin_write()
    result = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.locked_by == worker)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def mark_sent(row: Notification, worker: str, now: datetime) -> bool:
    done = outbox.finish(
        SPEC, row.id, worker, status=S.SENT, sent_at=now, finished_at=now, last_error=None
    )
    if done:
        log.info(
            "notification sent",
            extra={"notification_id": row.id, "kind": row.kind, "channel": row.channel},
        )
        NOTIFICATIONS.labels(row.channel, row.kind, "sent").inc()
        NOTIFICATION_LAG.labels(row.channel).observe(max(0.0, (now - row.due_at).total_seconds()))
    return done


def mark_skipped(row: Notification, worker: str, reason: str, now: datetime) -> bool:
    done = outbox.finish(SPEC, row.id, worker, status=S.SKIPPED, finished_at=now, last_error=reason)
    if done:
        NOTIFICATIONS.labels(row.channel, row.kind, "skipped").inc()
        log.info("notification skipped", extra={"notification_id": row.id, "reason": reason})
    return done


def mark_failure(
    row: Notification, worker: str, error: str, *, retryable: bool, now: datetime
) -> str:
    """Retry later (backoff in ``available_at``) or fail for good. Returns the outcome."""
    error = error[:2000]
    give_up = not retryable or row.attempts >= row.max_attempts
    if give_up:
        outcome, values = "failed", {"status": S.FAILED, "finished_at": now}
    else:
        retry_at = outbox.retry_at(SPEC, now, row.attempts)
        outcome, values = "retry", {"status": S.PENDING, "available_at": retry_at}
    if not outbox.finish(SPEC, row.id, worker, last_error=error, **values):
        return "lost"
    NOTIFICATIONS.labels(row.channel, row.kind, outcome).inc()
    log.log(
        logging.ERROR if give_up else logging.WARNING,
        "notification failed for good" if give_up else "notification failed; will retry",
        extra={"notification_id": row.id, "attempts": row.attempts, "error": error},
    )
    return outcome


def retry(notification_id: int | None = None) -> list[int]:
    """Re-open failed rows (one, or all) with a fresh attempt budget; enqueue them."""
    now = utcnow()
    begin_write()
    condition = Notification.status == S.FAILED
    if notification_id is not None:
        condition = condition & (Notification.id == notification_id)
    ids = list(db.session.scalars(select(Notification.id).where(condition)))
    if ids:
        outbox.reopen(SPEC, Notification.id.in_(ids), Notification.status == S.FAILED, now=now)
    db.session.commit()
    for nid in ids:
        if not outbox.enqueue(SPEC, nid, 0):
            break
    return ids
