"""What operators need to see and do about calendar sync: counters, job lists, retries."""

from __future__ import annotations

import json
import logging
import time
from datetime import date, datetime, timedelta

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select, update

from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.models import CalendarSyncJob, Reservation
from pelubot_web.models.sync import JOB_STATUSES, OPEN_JOB_STATUSES
from pelubot_web.models.types import utcnow
from pelubot_web.redis_client import get_redis
from pelubot_web.services.errors import InvalidInput, NotFound
from pelubot_web.services.outbox import enqueue, record_change, reopen_failed_row

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
    cfg = app.extensions["pelubot_config"]
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
    by_status = {status: int(counts.get(status, 0)) for status in JOB_STATUSES}
    now = utcnow()
    oldest = db.session.scalar(
        select(func.min(CalendarSyncJob.changed_at)).where(
            CalendarSyncJob.status.in_(OPEN_JOB_STATUSES)
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
        "worker_heartbeat_age_s": min(heartbeats.values()) if heartbeats else None,
        "worker_heartbeats": heartbeats,
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
    if status is not None and status not in JOB_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(JOB_STATUSES)}", field="status")
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
        tz = current_app.extensions["pelubot_config"].tz
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
    """Send a job back to the queue now, with a fresh attempt budget.

    A failed (or stuck pending) job is reset; a job that succeeded is re-run (harmless:
    sync is state-based); a job being processed right now is left alone.
    """
    begin_write()
    job = get_job(job_id)
    if job.status == "processing":
        return job
    if job.status == "succeeded" or _other_open_job(job) is not None:
        # A newer open row already carries this reservation: retrying means that row.
        return retry_reservation_sync(job.reservation.uuid)
    _reset_for_retry(job)
    target_version = job.target_version
    db.session.commit()
    enqueue(job_id, target_version)
    return _fresh(job_id)


def retry_all_failed() -> int:
    """Reset every failed job; returns how many were re-queued."""
    begin_write()
    ids = db.session.scalars(
        select(CalendarSyncJob.id).where(CalendarSyncJob.status == "failed")
    ).all()
    for job_id in ids:
        job = db.session.get(CalendarSyncJob, job_id)
        if job is not None and job.status == "failed" and _other_open_job(job) is None:
            _reset_for_retry(job)
    db.session.commit()
    due = db.session.execute(
        select(CalendarSyncJob.id, CalendarSyncJob.target_version).where(
            CalendarSyncJob.id.in_(ids), CalendarSyncJob.status == "pending"
        )
    ).all()
    db.session.commit()
    for job_id, target_version in due:
        enqueue(job_id, target_version)
    return len(due)


def retry_reservation_sync(reservation_uuid: str) -> CalendarSyncJob:
    """Make sure the reservation's calendar event is (re)synced: reuse or open a job."""
    begin_write()
    reservation = db.session.scalar(
        select(Reservation).where(Reservation.uuid == reservation_uuid).with_for_update()
    )
    if reservation is None:
        raise NotFound(f"reservation {reservation_uuid} does not exist")
    job = db.session.scalar(
        select(CalendarSyncJob).where(
            CalendarSyncJob.reservation_id == reservation.id,
            CalendarSyncJob.status.in_(OPEN_JOB_STATUSES),
        )
    )
    if job is None:
        job = reopen_failed_row(reservation.id, reservation.version, utcnow())
    if job is None:
        job = CalendarSyncJob(
            reservation_id=reservation.id,
            target_version=reservation.version,
            status="pending",
            max_attempts=current_app.extensions["pelubot_config"].sync_max_attempts,
            available_at=utcnow(),
            changed_at=utcnow(),
        )
        db.session.add(job)
        db.session.flush()
    elif job.status != "processing":
        _reset_for_retry(job)
    reservation.sync_job_id = job.id
    if reservation.sync_status != "not_required":
        reservation.sync_status = "pending"
    job_id, target_version, status = job.id, job.target_version, job.status
    db.session.commit()
    if status in ("pending", "queued"):
        enqueue(job_id, target_version)
    return _fresh(job_id)


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
        Reservation.status.in_(("confirmed", "completed", "no_show")),
        Reservation.end_at > utcnow(),
    )
    if stylist_id is not None:
        query = query.where(Reservation.stylist_id == stylist_id)
    if service_id is not None:
        query = query.where(Reservation.service_id == service_id)
    upcoming = db.session.scalars(query.with_for_update()).all()
    for reservation in upcoming:
        record_change(reservation)
    if commit:
        db.session.commit()  # the after-commit hook enqueues the rows
    return len(upcoming)


def _fresh(job_id: int) -> CalendarSyncJob:
    """Re-read a row in a new transaction (another connection may have just changed it)."""
    db.session.commit()
    db.session.expire_all()
    return get_job(job_id)


def _other_open_job(job: CalendarSyncJob) -> CalendarSyncJob | None:
    return db.session.scalar(
        select(CalendarSyncJob).where(
            CalendarSyncJob.reservation_id == job.reservation_id,
            CalendarSyncJob.id != job.id,
            CalendarSyncJob.status.in_(OPEN_JOB_STATUSES),
        )
    )


def _reset_for_retry(job: CalendarSyncJob) -> None:
    db.session.execute(
        update(CalendarSyncJob)
        .where(CalendarSyncJob.id == job.id, CalendarSyncJob.status != "processing")
        .values(
            status="pending",
            attempts=0,
            available_at=utcnow(),
            finished_at=None,
            locked_by=None,
        )
        .execution_options(synchronize_session="fetch")
    )
    reservation = job.reservation
    if reservation.sync_status == "failed":
        reservation.sync_status = "pending"
