"""The calendar-sync outbox: record changes in the booking transaction, enqueue after commit.

Step 1 and 2 of the sync design (docs/architecture.md): every write to a reservation
calls ``record_change`` inside its own transaction, so the outbox row commits or rolls
back with the reservation. Once the transaction commits, the touched rows are pushed to
RQ. If Redis is down the rows stay ``pending`` and the dispatcher picks them up later.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app, has_app_context
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from pelubot_web.extensions import db
from pelubot_web.models import CalendarSyncJob, Reservation
from pelubot_web.models.sync import OPEN_JOB_STATUSES
from pelubot_web.models.types import utcnow
from pelubot_web.redis_client import get_redis

log = logging.getLogger(__name__)

TASK_PATH = "pelubot_web.tasks.calendar.sync_calendar_job"
_PENDING_KEY = "pelubot_outbox_to_enqueue"


def record_change(reservation: Reservation, *, now: datetime | None = None) -> CalendarSyncJob:
    """Upsert the reservation's open outbox row to target its current version.

    Call it in the same transaction that changed the reservation, after bumping
    ``reservation.version`` and after locking the reservation row (``with_for_update``),
    which serialises concurrent changes of one reservation.
    """
    now = now or utcnow()
    db.session.flush()
    cfg = current_app.extensions["pelubot_config"]
    needs_sync = reservation.stylist.calendar_id is not None or (
        reservation.synced_calendar_id is not None
    )
    job = db.session.scalar(
        select(CalendarSyncJob).where(
            CalendarSyncJob.reservation_id == reservation.id,
            CalendarSyncJob.status.in_(OPEN_JOB_STATUSES),
        )
    )
    if job is not None:
        # Conditional: if a worker finished the row meanwhile, it is no longer open and
        # a new row is needed (PostgreSQL re-checks the WHERE after waiting for the lock).
        result = db.session.execute(
            update(CalendarSyncJob)
            .where(
                CalendarSyncJob.id == job.id,
                CalendarSyncJob.status.in_(OPEN_JOB_STATUSES),
            )
            .values(target_version=reservation.version, changed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            db.session.refresh(job)
        else:
            job = None
    if job is None:
        job = reopen_failed_row(reservation.id, reservation.version, now)
    if job is None:
        job = CalendarSyncJob(
            reservation_id=reservation.id,
            target_version=reservation.version,
            status="pending",
            max_attempts=cfg.sync_max_attempts,
            available_at=now,
            changed_at=now,
        )
        db.session.add(job)
        db.session.flush()
    if needs_sync:
        reservation.sync_status = "pending"
    else:
        reservation.sync_status = "not_required"
    reservation.sync_job_id = job.id
    _remember_for_enqueue(job)
    return job


def reopen_failed_row(reservation_id: int, version: int, now: datetime) -> CalendarSyncJob | None:
    """Give the reservation's latest ``failed`` row a fresh budget for ``version``.

    A new change or a retry supersedes the failure instead of leaving a ``failed`` row
    behind for ever (an "any failed row" alert would never clear). Conditional, so a
    concurrent reopen cannot create two open rows (the partial unique index agrees).
    """
    failed_id = db.session.scalar(
        select(CalendarSyncJob.id)
        .where(
            CalendarSyncJob.reservation_id == reservation_id,
            CalendarSyncJob.status == "failed",
        )
        .order_by(CalendarSyncJob.id.desc())
        .limit(1)
    )
    if failed_id is None:
        return None
    result = db.session.execute(
        update(CalendarSyncJob)
        .where(CalendarSyncJob.id == failed_id, CalendarSyncJob.status == "failed")
        .values(
            status="pending",
            target_version=version,
            attempts=0,
            available_at=now,
            changed_at=now,
            finished_at=None,
            locked_by=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    job = db.session.get(CalendarSyncJob, failed_id)
    if job is not None:
        db.session.refresh(job)
    return job


def _remember_for_enqueue(job: CalendarSyncJob) -> None:
    pending: dict[int, int] = db.session.info.setdefault(_PENDING_KEY, {})
    pending[job.id] = job.target_version


def enqueue(job_id: int, target_version: int) -> bool:
    """Push one outbox row to RQ and mark it queued. False (row left as is) if Redis fails."""
    cfg = current_app.extensions["pelubot_config"]
    queue = Queue(cfg.queue_name, connection=get_redis())
    try:
        queue.enqueue(
            TASK_PATH,
            job_id,
            job_id=f"calsync-{job_id}-v{target_version}",
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            job_timeout=300,
        )
    except (RedisError, OSError) as exc:
        log.warning(
            "redis unavailable; outbox row stays pending for the dispatcher",
            extra={"outbox_id": job_id, "error": str(exc)},
        )
        return False
    with db.engine.begin() as conn:
        conn.execute(
            update(CalendarSyncJob)
            .where(CalendarSyncJob.id == job_id, CalendarSyncJob.status == "pending")
            .values(status="queued", enqueued_at=utcnow())
        )
    return True


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    pending: dict[int, int] | None = session.info.pop(_PENDING_KEY, None)
    if not pending or not has_app_context():
        return
    for job_id, version in pending.items():
        if not enqueue(job_id, version):
            break  # Redis is down: the dispatcher will enqueue the rest when it is back.


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
