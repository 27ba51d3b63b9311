"""The mechanics every outbox shares, for any table an ``OutboxSpec`` describes.

An outbox row says "make an outside system match our data": written in the same
transaction as the data, pushed to RQ after commit, claimed by exactly one worker, ended
by that worker while it still owns the row (``owned_by`` in every WHERE), and looked
after by the dispatcher (``outbox_sweeps``: due rows, rows Redis lost, rows of dead
workers). The module
owning one outbox (``calendar_outbox``, ``notifications``) defines its ``SPEC`` and its
domain transitions (what "done" means, coalescing, reminders, opt-outs) and calls these.

An outbox model has the columns ``id``, ``status``, ``attempts``, ``max_attempts``,
``available_at``, ``locked_by``, ``heartbeat_at``, ``last_error``, ``enqueued_at`` and
``finished_at``, plus the spec's ``job_key`` column (and ``started_at``, if it says so).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from flask import Flask, current_app, has_app_context
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import BindParameter, bindparam, event, update
from sqlalchemy.orm import Session

from pelubot_web.config import Config, current_config
from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.models.types import utcnow
from pelubot_web.redis_client import get_redis

log = logging.getLogger(__name__)

# session.info key: {spec: {row id: job key}} of rows to push to RQ once the session commits.
_TO_ENQUEUE = "pelubot_outbox_to_enqueue"

OutboxModel = Any  # ``CalendarSyncJob``, ``Notification``: typed loosely, as db.Model is


@dataclass(frozen=True)
class OutboxSpec:
    """What differs between two outboxes; the mechanics in this module are the same.

    The status members are the outbox's own ``StrEnum``'s: ``pending`` (waiting for
    ``available_at``) -> ``queued`` (on RQ) -> ``processing`` (claimed) -> the owner's end
    states, of which only ``failed`` (out of attempts) is the mechanics' business.
    """

    name: str  # in log lines: "calendar sync", "notification"
    model: OutboxModel
    pending: StrEnum
    queued: StrEnum
    processing: StrEnum
    failed: StrEnum
    task_path: str  # what RQ runs, with the row id
    queue_name: Callable[[Config], str]
    job_id_format: str  # RQ job id from ``{id}`` and ``{key}``: re-enqueues deduplicate
    job_key: str  # the column that makes a new RQ job id (version, attempt)
    job_timeout_s: int
    backoff_s: Callable[[Config], tuple[float, float]]  # (base, cap) of retry backoff
    activity: str  # what a worker does with a claimed row, for a recovered row's error
    log_key: str = "outbox_id"  # the row id's name in log lines
    started_at: str | None = None  # column stamped when a worker claims the row, if any


def job_id(spec: OutboxSpec, row_id: int, key: int) -> str:
    """RQ job id of a row at ``key`` (its version or attempt count)."""
    return spec.job_id_format.format(id=row_id, key=key)


def backoff_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Capped exponential backoff with full jitter: uniform(0, min(cap, base * 2^(n-1)))."""
    ceiling = min(cap_s, base_s * (2 ** max(0, attempt - 1)))
    return rng.uniform(0, ceiling)


def retry_at(
    spec: OutboxSpec, now: datetime, attempt: int, *, min_delay_s: float = 0.0
) -> datetime:
    """When a row that failed its ``attempt``-th try becomes due again (at least
    ``min_delay_s`` later, when the other side asked for a wait)."""
    base_s, cap_s = spec.backoff_s(current_config())
    delay = backoff_delay(attempt, base_s, cap_s, random.SystemRandom())
    return now + timedelta(seconds=max(delay, min_delay_s))


def stale_after_s() -> float:
    """A processing row whose heartbeat is older than this belongs to a dead worker."""
    cfg = current_config()
    return max(cfg.sync_poll_interval_s * 2, 60.0)


def heartbeat_interval_s() -> float:
    return min(10.0, stale_after_s() / 4)


# --- handing rows to RQ --------------------------------------------------------------------


def enqueue(spec: OutboxSpec, row_id: int, key: int) -> bool:
    """Push one row to RQ and mark it queued. False (row left pending) if Redis fails."""
    queue = Queue(spec.queue_name(current_config()), connection=get_redis())
    try:
        queue.enqueue(
            spec.task_path,
            row_id,
            job_id=job_id(spec, row_id, key),
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
            job_timeout=spec.job_timeout_s,
        )
    except (RedisError, OSError) as exc:
        log.warning(
            "redis unavailable; %s row stays pending for the dispatcher",
            spec.name,
            extra={spec.log_key: row_id, "error": str(exc)},
        )
        return False
    model = spec.model
    with db.engine.begin() as conn:
        conn.execute(
            update(model)
            .where(model.id == row_id, model.status == spec.pending)
            .values(status=spec.queued, enqueued_at=utcnow())
        )
    return True


def enqueue_after_commit(spec: OutboxSpec, row_id: int, key: int) -> None:
    """Push the row to RQ once the current transaction commits (forgotten on rollback).

    If Redis is down then, the row stays pending for the dispatcher.
    """
    to_enqueue: dict[OutboxSpec, dict[int, int]] = db.session.info.setdefault(_TO_ENQUEUE, {})
    to_enqueue.setdefault(spec, {})[row_id] = key


def _enqueue_after_commit(session: Session) -> None:
    to_enqueue: dict[OutboxSpec, dict[int, int]] | None = session.info.pop(_TO_ENQUEUE, None)
    if not to_enqueue or not has_app_context():
        return
    for spec, rows in to_enqueue.items():
        for row_id, key in rows.items():
            if not enqueue(spec, row_id, key):
                break  # Redis is down: the dispatcher enqueues the rest when it is back.


def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_TO_ENQUEUE, None)


def init_app(app: Flask) -> None:
    """Enqueue after commit on every session (listeners registered once per process)."""
    for name, listener in (
        ("after_commit", _enqueue_after_commit),
        ("after_rollback", _forget_after_rollback),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def reopen(spec: OutboxSpec, *where: Any, now: datetime, **values: Any) -> int:
    """Rows matching ``where`` become pending, due ``now``, with a fresh attempt budget
    (an operator's retry, or a change superseding a failure). Returns how many."""
    fresh = {"attempts": 0, "available_at": now, "finished_at": None, "locked_by": None}
    result = db.session.execute(
        update(spec.model)
        .where(*where)
        .values(status=spec.pending, **fresh, **values)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- worker side ---------------------------------------------------------------------------


@cache
def _claim_statement(spec: OutboxSpec) -> Any:
    """Built once per outbox (a worker runs it for every job; building it and its cache
    key cost more than running it). Parameters: ``row_id``, ``worker``, ``now``."""
    model = spec.model
    now: BindParameter[datetime] = bindparam("now")
    stamps = {spec.started_at: now} if spec.started_at else {}
    return (
        update(model)
        .where(
            model.id == bindparam("row_id"),
            model.status.in_((spec.pending, spec.queued)),
            model.available_at <= now,
        )
        .values(
            status=spec.processing,
            locked_by=bindparam("worker"),
            heartbeat_at=now,
            attempts=model.attempts + 1,
            **stamps,
        )
        .execution_options(synchronize_session=False)
    )


def claim(spec: OutboxSpec, row_id: int, worker: str, now: datetime) -> bool:
    """Conditional UPDATE: exactly one worker moves a due row to processing (and commits)."""
    begin_write()
    result = db.session.execute(
        _claim_statement(spec), {"row_id": row_id, "worker": worker, "now": now}
    )
    db.session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def owned_by(spec: OutboxSpec, row_id: int, worker: str | None) -> tuple[Any, ...]:
    """WHERE clauses of every write a worker makes to a row it claimed."""
    model = spec.model
    return (model.id == row_id, model.locked_by == worker, model.status == spec.processing)


def finish(spec: OutboxSpec, row_id: int, worker: str, **values: Any) -> bool:
    """Apply ``values`` to a claimed row and unlock it, if this worker still owns it; commit.

    Starts from a fresh transaction (the worker's snapshot is stale by now).
    """
    db.session.rollback()
    begin_write()
    result = db.session.execute(
        update(spec.model)
        .where(*owned_by(spec, row_id, worker))
        .values(locked_by=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    owned = bool(result.rowcount == 1)  # type: ignore[attr-defined]
    if not owned:
        log.warning("%s row was taken from this worker", spec.name, extra={spec.log_key: row_id})
    return owned


class Heartbeat:
    """Refreshes ``heartbeat_at`` from a side thread while a job talks to the outside."""

    def __init__(
        self, spec: OutboxSpec, row_id: int, worker: str, interval_s: float | None = None
    ) -> None:
        self._spec = spec
        self._row_id = row_id
        self._worker = worker
        self._interval = interval_s or heartbeat_interval_s()
        self._stop = threading.Event()
        self._app = current_app._get_current_object()  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{row_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        # A new thread has no app context of its own: db.engine needs the app's.
        with self._app.app_context():
            while not self._stop.wait(self._interval):
                self._beat()

    def _beat(self) -> None:
        try:
            with db.engine.begin() as conn:
                conn.execute(
                    update(self._spec.model)
                    .where(*owned_by(self._spec, self._row_id, self._worker))
                    .values(heartbeat_at=utcnow())
                )
        except Exception:  # a missed beat only risks a harmless re-run
            log.warning("heartbeat update failed", exc_info=True)
