"""What operators need to see and do about calendar sync: counters, job lists, retries."""

from __future__ import annotations

import json
import logging
import time
from datetime import date, datetime, timedelta

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select

from pelubot_web.config import current_config
from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.models import CalendarSyncJob, Notification, Reservation
from pelubot_web.models.notify import OPEN_NOTIFICATION_STATUSES, NotificationStatus
from pelubot_web.models.outbox import OPEN_OUTBOX_STATUSES, OutboxStatus
from pelubot_web.models.reservation import LIVE_STATUSES
from pelubot_web.models.types import utcnow
from pelubot_web.redis_client import get_redis
from pelubot_web.services import calendar_outbox
from pelubot_web.services.errors import InvalidInput, NotFound

log = logging.getLogger(__name__)

WORKERS_KEY = "pelubot:workers"
# A worker that has not reported for this long is considered gone.
WORKER_STALE_AFTER_S = 60.0


def record_worker_heartbeat(redis: Redis, worker_name: str, now: float | None = None) -> None:
    """Called by every worker loop; /ready and the dashboard read it back."""
    stamp = now if now is not None else time.time()
    pipe = redis.pipeline()
    pipe.zadd(WORKERS_KEY, {worker_name: stamp})
    # Forget workers silent for a day so the set does not grow forever.
    pipe.zremrangebyscore(WORKERS_KEY, "-inf", stamp - 86400)
    pipe.execute()


def forget_worker(redis: Redis, worker_name: str) -> None:
    redis.zrem(WORKERS_KEY, worker_name)


def worker_heartbeats(redis: Redis) -> dict[str, float]:
    """Worker name -> seconds since its last heartbeat."""
    now = time.time()
    raw: list[tuple[bytes, float]] = redis.zrange(WORKERS_KEY, 0, -1, withscores=True)  # type: ignore[assignment]
    return {name.decode(): max(0.0, now - float(score)) for name, score in raw}


def worker_heartbeat_age_s(redis: Redis | None = None) -> float | None:
    """Seconds since the freshest worker heartbeat; None if no worker ever reported."""
    try:
        ages = worker_heartbeats(redis or get_redis())
    except (RedisError, OSError):
        return None
    return min(ages.values()) if ages else None


def check_worker(app: Flask) -> dict[str, object]:
    """Readiness check: some worker reported within WORKER_STALE_AFTER_S."""
    age = worker_heartbeat_age_s(get_redis(app))
    if age is None:
        raise RuntimeError("no worker has reported a heartbeat")
    if age > WORKER_STALE_AFTER_S:
        raise RuntimeError(f"last worker heartbeat {age:.0f} s ago")
    return {"heartbeat_age_s": round(age, 1)}


def check_calendar_credentials(app: Flask) -> dict[str, object]:
    """Readiness check: the Google backend has usable credentials (read locally, no call)."""
    cfg = current_config(app)
    if cfg.gcal_backend != "google":
        return {"backend": cfg.gcal_backend}
    path = cfg.gcal_credentials_file
    if not path:
        raise RuntimeError("PELUBOT_GCAL_CREDENTIALS_FILE is not set")
    try:
        with open(path, encoding="utf-8") as handle:
            info = json.load(handle)
    except OSError as exc:
        raise RuntimeError(f"cannot read the credentials file: {exc.strerror}") from None
    except ValueError:
        raise RuntimeError("the credentials file is not valid JSON") from None
    missing = [k for k in ("client_email", "private_key") if not info.get(k)]
    if missing:
        raise RuntimeError(f"the credentials file lacks {', '.join(missing)}")
    return {"backend": "google", "service_account": info["client_email"]}


def queue_snapshot() -> dict[str, object]:
    """Outbox counters for the dashboard and /metrics, straight from the database."""
    counts = dict(
        db.session.execute(
            select(CalendarSyncJob.status, func.count()).group_by(CalendarSyncJob.status)
        ).all()
    )
    by_status = {str(status): int(counts.get(status, 0)) for status in OutboxStatus}
    now = utcnow()
    oldest = db.session.scalar(
        select(func.min(CalendarSyncJob.changed_at)).where(
            CalendarSyncJob.status.in_(OPEN_OUTBOX_STATUSES)
        )
    )
    if oldest is not None and oldest.tzinfo is None:  # SQLite aggregate loses the type
        oldest = oldest.replace(tzinfo=now.tzinfo)
    try:
        heartbeats = worker_heartbeats(get_redis())
    except (RedisError, OSError):
        heartbeats = {}
    return {
        "by_status": by_status,
        "oldest_pending_age_s": (now - oldest).total_seconds() if oldest else 0.0,
        **_notification_backlog(now),
        "worker_heartbeat_age_s": min(heartbeats.values()) if heartbeats else None,
        "worker_heartbeats": heartbeats,
    }


def _notification_backlog(now: datetime) -> dict[str, object]:
    """Notification rows by status, and how long the oldest due one has waited to go out
    (due time passed, still open: a stopped worker or a failing mail server shows here)."""
    counts = dict(
        db.session.execute(
            select(Notification.status, func.count()).group_by(Notification.status)
        ).all()
    )
    oldest_due = db.session.scalar(
        select(func.min(Notification.available_at)).where(
            Notification.status.in_(OPEN_NOTIFICATION_STATUSES), Notification.available_at <= now
        )
    )
    if oldest_due is not None and oldest_due.tzinfo is None:  # SQLite aggregate
        oldest_due = oldest_due.replace(tzinfo=now.tzinfo)
    return {
        "notifications_by_status": {
            str(status): int(counts.get(status, 0)) for status in NotificationStatus
        },
        "oldest_due_notification_age_s": (
            max(0.0, (now - oldest_due).total_seconds()) if oldest_due else 0.0
        ),
    }


def list_jobs(
    *,
    status: str | None = None,
    stylist_id: int | None = None,
    day: date | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[CalendarSyncJob], int]:
    """Outbox rows, newest first, filtered by status, stylist and reservation day."""
    if status is not None and status not in tuple(OutboxStatus):
        raise InvalidInput(f"status must be one of {', '.join(OutboxStatus)}", field="status")
    if not 1 <= limit <= 100:
        raise InvalidInput("limit must be between 1 and 100", field="limit")
    if offset < 0:
        raise InvalidInput("offset must be >= 0", field="offset")
    query = select(CalendarSyncJob).join(Reservation)
    if status:
        query = query.where(CalendarSyncJob.status == status)
    if stylist_id is not None:
        query = query.where(Reservation.stylist_id == stylist_id)
    if day is not None:
        tz = current_config().tz
        start = datetime.combine(day, datetime.min.time(), tz)
        query = query.where(
            Reservation.start_at >= start, Reservation.start_at < start + timedelta(days=1)
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(
        query.order_by(CalendarSyncJob.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(items), int(total)


# Ids are 32-bit in the schema; larger numbers cannot exist (and overflow the drivers).
MAX_JOB_ID = 2**31 - 1


def get_job(job_id: int) -> CalendarSyncJob:
    if not 1 <= job_id <= MAX_JOB_ID:
        raise NotFound(f"calendar sync job {job_id} does not exist")
    job = db.session.get(CalendarSyncJob, job_id)
    if job is None:
        raise NotFound(f"calendar sync job {job_id} does not exist")
    return job


def retry_job(job_id: int) -> CalendarSyncJob:
    """Send a job back to the queue now, with a fresh attempt budget (``calendar_outbox.retry``)."""
    begin_write()
    return _fresh(calendar_outbox.retry(get_job(job_id)))


def retry_all_failed() -> int:
    """Reset every failed job; returns how many were re-queued."""
    return calendar_outbox.retry_all_failed()


def retry_reservation_sync(reservation_uuid: str) -> CalendarSyncJob:
    """Make sure the reservation's calendar event is (re)synced: reuse or open a job."""
    return _fresh(calendar_outbox.retry_reservation(reservation_uuid))


def resync_upcoming(
    stylist_id: int | None = None, *, service_id: int | None = None, commit: bool = True
) -> int:
    """Queue every live reservation that has not ended yet (of a stylist, a service, or all).

    For after a calendar was restored or emptied by hand, a stylist's calendar id
    changed, or the backend was switched on: sync is state-based, so this is always
    safe. With ``commit=False`` the rows join the caller's transaction.
    """
    if commit:
        begin_write()
    query = select(Reservation).where(
        Reservation.status.in_(LIVE_STATUSES),
        Reservation.end_at > utcnow(),
    )
    if stylist_id is not None:
        query = query.where(Reservation.stylist_id == stylist_id)
    if service_id is not None:
        query = query.where(Reservation.service_id == service_id)
    upcoming = db.session.scalars(query.with_for_update()).all()
    for reservation in upcoming:
        calendar_outbox.record_change(reservation)
    if commit:
        db.session.commit()  # the after-commit hook enqueues the rows
    return len(upcoming)


def _fresh(job_id: int) -> CalendarSyncJob:
    """Re-read a row in a new transaction (another connection may have just changed it)."""
    db.session.commit()
    db.session.expire_all()
    return get_job(job_id)
