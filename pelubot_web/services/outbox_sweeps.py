"""The dispatcher's sweeps over any outbox an ``OutboxSpec`` describes.

Each worker's dispatcher (``tasks/dispatcher.py``) runs these through the outbox owners
(``calendar_outbox``, ``notifications``): rows of dead workers go back to pending (or
fail when out of attempts), due pending rows are pushed to RQ, and queued rows whose RQ
job Redis lost are pushed again. A row's own transitions are ``outbox``'s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import or_, select, update

from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.models.types import utcnow
from pelubot_web.redis_client import get_redis
from pelubot_web.services.outbox import OutboxSpec, enqueue, job_id, owned_by, stale_after_s

__all__ = ["enqueue_due", "recover_stale", "rq_job_alive"]

log = logging.getLogger(__name__)

# A queued row is only suspicious once it had time to be picked up.
QUEUED_GRACE_S = 10.0
# Rows the dispatcher handles per cycle.
BATCH = 500
LIVE_RQ_STATES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def recover_stale(
    spec: OutboxSpec,
    owner_gone: Callable[[str | None], bool],
    on_failed: Callable[[Any], None] | None = None,
) -> int:
    """Give rows of dead workers back (pending now), or fail them when out of attempts.

    A row's worker is dead when its heartbeat is too old or ``owner_gone(locked_by)``.
    ``on_failed(row)`` runs, in the same transaction, for each row failed that way.
    Returns how many rows were recovered; commits.
    """
    now = utcnow()
    recovered = 0
    for row in _stale_rows(spec, now, owner_gone):
        status = _release_stale(spec, row, now)
        if status is None:
            continue
        recovered += 1
        if status == spec.failed and on_failed is not None:
            on_failed(row)
    db.session.commit()
    return recovered


def _stale_rows(
    spec: OutboxSpec, now: datetime, owner_gone: Callable[[str | None], bool]
) -> Sequence[Any]:
    threshold = now - timedelta(seconds=stale_after_s())
    begin_write()
    model = spec.model
    rows = db.session.scalars(select(model).where(model.status == spec.processing)).all()
    return [
        row
        for row in rows
        if row.heartbeat_at is None or row.heartbeat_at < threshold or owner_gone(row.locked_by)
    ]


def _release_stale(spec: OutboxSpec, row: Any, now: datetime) -> StrEnum | None:
    """The new status of a dead worker's row, or None if it changed hands meanwhile."""
    status = spec.failed if row.attempts >= row.max_attempts else spec.pending
    timing = {"finished_at": now} if status == spec.failed else {"available_at": now}
    result = db.session.execute(
        update(spec.model)
        .where(*owned_by(spec, row.id, row.locked_by))
        .values(
            status=status,
            locked_by=None,
            last_error=f"worker {row.locked_by} stopped while {spec.activity}",
            **timing,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    log.warning(
        "recovered %s row of a lost worker",
        spec.name,
        extra={spec.log_key: row.id, "locked_by": row.locked_by},
    )
    return status


def enqueue_due(spec: OutboxSpec) -> int:
    """Push due pending rows, and queued rows whose RQ job no longer exists.

    Returns how many were pushed; stops at the first Redis failure (the next cycle goes on).
    """
    redis = get_redis()
    pushed = 0
    for row_id, status, key in _due_rows(spec, utcnow()):
        if status == spec.queued:
            if rq_job_alive(redis, job_id(spec, row_id, key)):
                continue
            enqueued = _requeue_lost(spec, row_id, key)
        else:
            enqueued = enqueue(spec, row_id, key)
        if not enqueued:
            break
        pushed += 1
    return pushed


def rq_job_alive(redis: Redis, rq_job_id: str) -> bool:
    """Whether RQ still has the job, waiting or running."""
    try:
        job = Job.fetch(rq_job_id, connection=redis)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in LIVE_RQ_STATES


def _due_rows(spec: OutboxSpec, now: datetime) -> Sequence[Any]:
    """(id, status, job key) of due pending rows and of queued rows past the grace."""
    model = spec.model
    queued_before = now - timedelta(seconds=QUEUED_GRACE_S)
    rows = db.session.execute(
        select(model.id, model.status, getattr(model, spec.job_key))
        .where(
            or_(
                (model.status == spec.pending) & (model.available_at <= now),
                (model.status == spec.queued)
                & or_(model.enqueued_at.is_(None), model.enqueued_at < queued_before),
            )
        )
        .order_by(model.available_at)
        .limit(BATCH)
    ).all()
    db.session.commit()
    return rows


def _requeue_lost(spec: OutboxSpec, row_id: int, key: int) -> bool:
    # A queued row whose RQ job Redis lost: back to pending, then enqueue it again.
    log.warning("re-enqueueing a %s row Redis lost", spec.name, extra={spec.log_key: row_id})
    model = spec.model
    with db.engine.begin() as conn:
        conn.execute(
            update(model)
            .where(model.id == row_id, model.status == spec.queued)
            .values(status=spec.pending)
        )
    return enqueue(spec, row_id, key)
