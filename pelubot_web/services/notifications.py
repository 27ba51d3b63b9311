"""The notification outbox. This module owns every status transition of a notification.

Same discipline as the calendar outbox (docs/architecture.md, Notifications):

- ``record_change`` runs inside the booking transaction and adds one row per message
  (reservation × kind × event × channel × target, unique), so messages commit or roll
  back with the change and none is created twice;
- after commit, rows already due are pushed to RQ (``enqueue``); future reminders and
  rows left behind by a Redis outage are pushed by the dispatcher (``due_rows``);
- a worker ``claim``s a row with a conditional UPDATE, then ends it with ``mark_sent``,
  ``mark_skipped`` or ``mark_failure`` (retry with capped, jittered backoff stored in
  the row, or ``failed``), each conditional on still owning the row;
- ``recover_stale`` gives rows of dead workers back; ``retry`` re-opens failed rows.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any

from flask import has_app_context
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from pelubot_web.config import current_config
from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.metrics import NOTIFICATION_LAG, NOTIFICATIONS
from pelubot_web.models import Notification, Reservation
from pelubot_web.models.notify import (
    OPEN_NOTIFICATION_STATUSES,
    Channel,
    NotificationKind,
    NotificationStatus,
)
from pelubot_web.models.types import utcnow
from pelubot_web.redis_client import get_redis
from pelubot_web.services.notify_plan import OPTIONAL_EMAIL_KINDS
from pelubot_web.services.notify_rows import rows_for_change
from pelubot_web.services.outbox import backoff_delay

log = logging.getLogger(__name__)

__all__ = [
    "claim",
    "enqueue",
    "mark_failure",
    "mark_sent",
    "mark_skipped",
    "record_change",
    "recover_stale",
    "retry",
]

TASK_PATH = "pelubot_web.tasks.notify.send_notification"
_PENDING_KEY = "pelubot_notifications_to_enqueue"
S = NotificationStatus
WAITING = (S.PENDING, S.QUEUED)


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
    pending: list[int] = db.session.info.setdefault(_PENDING_KEY, [])
    pending.extend(row.id for row in rows if row.available_at <= now)
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


# --- after commit: hand due rows to RQ -----------------------------------------------------


def enqueue(notification_id: int, attempts: int) -> bool:
    """Push one row to RQ and mark it queued. False (row left pending) if Redis fails."""
    cfg = current_config()
    queue = Queue(cfg.notify_queue_name, connection=get_redis())
    try:
        queue.enqueue(
            TASK_PATH,
            notification_id,
            job_id=f"notify-{notification_id}-a{attempts}",
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            job_timeout=120,
        )
    except (RedisError, OSError) as exc:
        log.warning(
            "redis unavailable; notification stays pending for the dispatcher",
            extra={"notification_id": notification_id, "error": str(exc)},
        )
        return False
    with db.engine.begin() as conn:
        conn.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.status == S.PENDING)
            .values(status=S.QUEUED, enqueued_at=utcnow())
        )
    return True


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    pending: list[int] | None = session.info.pop(_PENDING_KEY, None)
    if not pending or not has_app_context():
        return
    for notification_id in pending:
        if not enqueue(notification_id, 0):
            break  # Redis is down: the dispatcher enqueues the rest when it is back.


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def due_rows(now: datetime, queued_before: datetime, limit: int) -> list[tuple[int, int, str]]:
    """(id, attempts, status) of due pending rows and of queued rows old enough to check."""
    return [
        (row.id, row.attempts, row.status)
        for row in db.session.execute(
            select(Notification.id, Notification.attempts, Notification.status)
            .where(
                ((Notification.status == S.PENDING) & (Notification.available_at <= now))
                | (
                    (Notification.status == S.QUEUED)
                    & (
                        Notification.enqueued_at.is_(None)
                        | (Notification.enqueued_at < queued_before)
                    )
                )
            )
            .order_by(Notification.available_at)
            .limit(limit)
        )
    ]


def requeue_lost(notification_id: int) -> None:
    """A queued row whose RQ job Redis lost goes back to pending (``enqueue`` re-marks it)."""
    with db.engine.begin() as conn:
        conn.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.status == S.QUEUED)
            .values(status=S.PENDING)
        )


# --- worker side ---------------------------------------------------------------------------


def claim(notification_id: int, worker: str, now: datetime) -> bool:
    """Conditional UPDATE: exactly one worker moves a due row to processing."""
    begin_write()
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status.in_(WAITING),
            Notification.available_at <= now,
        )
        .values(
            status=S.PROCESSING,
            locked_by=worker,
            heartbeat_at=now,
            attempts=Notification.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _finish(notification_id: int, worker: str, **values: Any) -> bool:
    """Apply ``values`` if this worker still owns the row; commit."""
    db.session.rollback()  # drop the stale snapshot; the UPDATE below is conditional
    begin_write()
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.locked_by == worker,
            Notification.status == S.PROCESSING,
        )
        .values(locked_by=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    owned = result.rowcount == 1  # type: ignore[attr-defined]
    if not owned:
        log.warning(
            "notification was taken from this worker", extra={"notification_id": notification_id}
        )
    return bool(owned)


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
    done = _finish(row.id, worker, status=S.SENT, sent_at=now, finished_at=now, last_error=None)
    if done:
        log.info(
            "notification sent",
            extra={"notification_id": row.id, "kind": row.kind, "channel": row.channel},
        )
        NOTIFICATIONS.labels(row.channel, row.kind, "sent").inc()
        NOTIFICATION_LAG.labels(row.channel).observe(max(0.0, (now - row.due_at).total_seconds()))
    return done


def mark_skipped(row: Notification, worker: str, reason: str, now: datetime) -> bool:
    done = _finish(row.id, worker, status=S.SKIPPED, finished_at=now, last_error=reason)
    if done:
        NOTIFICATIONS.labels(row.channel, row.kind, "skipped").inc()
        log.info("notification skipped", extra={"notification_id": row.id, "reason": reason})
    return done


def mark_failure(
    row: Notification, worker: str, error: str, *, retryable: bool, now: datetime
) -> str:
    """Retry later (backoff in ``available_at``) or fail for good. Returns the outcome."""
    cfg = current_config()
    error = error[:2000]
    if not retryable or row.attempts >= row.max_attempts:
        if not _finish(row.id, worker, status=S.FAILED, finished_at=now, last_error=error):
            return "lost"
        NOTIFICATIONS.labels(row.channel, row.kind, "failed").inc()
        log.error(
            "notification failed for good",
            extra={"notification_id": row.id, "attempts": row.attempts, "error": error},
        )
        return "failed"
    delay = backoff_delay(
        row.attempts, cfg.sync_backoff_base_s, cfg.sync_backoff_cap_s, random.SystemRandom()
    )
    retry_at = now + timedelta(seconds=delay)
    if not _finish(row.id, worker, status=S.PENDING, available_at=retry_at, last_error=error):
        return "lost"
    NOTIFICATIONS.labels(row.channel, row.kind, "retry").inc()
    log.warning(
        "notification failed; will retry",
        extra={"notification_id": row.id, "attempts": row.attempts, "error": error},
    )
    return "retry"


def recover_stale(now: datetime, stale_after: timedelta, owner_is_dead: Any) -> int:
    """Give rows of dead workers back (or fail them when out of attempts)."""
    begin_write()
    rows = db.session.scalars(select(Notification).where(Notification.status == S.PROCESSING)).all()
    recovered = 0
    for row in rows:
        stale = row.heartbeat_at is None or row.heartbeat_at < now - stale_after
        if not (stale or owner_is_dead(row.locked_by)):
            continue
        values: dict[str, Any] = {
            "locked_by": None,
            "last_error": f"worker {row.locked_by} stopped while sending",
        }
        if row.attempts >= row.max_attempts:
            values.update(status=S.FAILED, finished_at=now)
        else:
            values.update(status=S.PENDING, available_at=now)
        result = db.session.execute(
            update(Notification)
            .where(
                Notification.id == row.id,
                Notification.status == S.PROCESSING,
                Notification.locked_by == row.locked_by,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        recovered += int(result.rowcount)  # type: ignore[attr-defined]
    db.session.commit()
    return recovered


def retry(notification_id: int | None = None) -> list[int]:
    """Re-open failed rows (one, or all) with a fresh attempt budget; enqueue them."""
    now = utcnow()
    begin_write()
    condition = Notification.status == S.FAILED
    if notification_id is not None:
        condition = condition & (Notification.id == notification_id)
    ids = list(db.session.scalars(select(Notification.id).where(condition)))
    if ids:
        db.session.execute(
            update(Notification)
            .where(Notification.id.in_(ids), Notification.status == S.FAILED)
            .values(status=S.PENDING, attempts=0, available_at=now, finished_at=None)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    for nid in ids:
        if not enqueue(nid, 0):
            break
    return ids


def is_open(status: str) -> bool:
    return status in OPEN_NOTIFICATION_STATUSES
