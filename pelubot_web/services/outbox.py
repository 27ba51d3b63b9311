"""Steps every outbox shares, whatever its table: claim, heartbeat, backoff, stale rows.

An outbox model has the columns ``id``, ``status`` (``OutboxStatus``), ``attempts``,
``max_attempts``, ``available_at``, ``locked_by``, ``heartbeat_at`` and ``started_at``.
The module owning one outbox's transitions (``calendar_outbox``) builds on these; a
worker only ever writes to a row it still owns (``locked_by`` in every WHERE).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update

from pelubot_web.config import current_config
from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.models.outbox import CLAIMABLE_OUTBOX_STATUSES, OutboxStatus
from pelubot_web.models.types import utcnow

log = logging.getLogger(__name__)

# A queued row is only suspicious once it had time to be picked up.
QUEUED_GRACE_S = 10.0
# Rows the dispatcher handles per cycle.
BATCH = 500

# An outbox model class (``CalendarSyncJob``, ...): typed loosely, as db.Model is.
OutboxModel = Any


def backoff_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Capped exponential backoff with full jitter: uniform(0, min(cap, base * 2^(n-1)))."""
    ceiling = min(cap_s, base_s * (2 ** max(0, attempt - 1)))
    return rng.uniform(0, ceiling)


def retry_at(now: datetime, attempt: int, *, min_delay_s: float = 0.0) -> datetime:
    """When a row that failed its ``attempt``-th try becomes due again (at least
    ``min_delay_s`` later, when the other side asked for a wait)."""
    cfg = current_config()
    delay = backoff_delay(
        attempt, cfg.sync_backoff_base_s, cfg.sync_backoff_cap_s, random.SystemRandom()
    )
    return now + timedelta(seconds=max(delay, min_delay_s))


def stale_after_s() -> float:
    """A processing row whose heartbeat is older than this belongs to a dead worker."""
    cfg = current_config()
    return max(cfg.sync_poll_interval_s * 2, 60.0)


def heartbeat_interval_s() -> float:
    return min(10.0, stale_after_s() / 4)


def claim(model: OutboxModel, row_id: int, worker: str, now: datetime) -> bool:
    """Conditional UPDATE: exactly one worker moves a due row to processing (and commits)."""
    begin_write()
    result = db.session.execute(
        update(model)
        .where(
            model.id == row_id,
            model.status.in_(CLAIMABLE_OUTBOX_STATUSES),
            model.available_at <= now,
        )
        .values(
            status=OutboxStatus.PROCESSING,
            locked_by=worker,
            heartbeat_at=now,
            started_at=now,
            attempts=model.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def owned_by(model: OutboxModel, row_id: int, worker: str) -> tuple[Any, ...]:
    """WHERE clauses of every write a worker makes to a row it claimed."""
    return (
        model.id == row_id,
        model.locked_by == worker,
        model.status == OutboxStatus.PROCESSING,
    )


class Heartbeat:
    """Refreshes ``heartbeat_at`` from a side thread while a job talks to the outside."""

    def __init__(
        self, model: OutboxModel, row_id: int, worker: str, interval_s: float | None = None
    ) -> None:
        self._model = model
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
                    update(self._model)
                    .where(*owned_by(self._model, self._row_id, self._worker))
                    .values(heartbeat_at=utcnow())
                )
        except Exception:  # a missed beat only risks a harmless re-run
            log.warning("heartbeat update failed", exc_info=True)


def stale_rows(
    model: OutboxModel, now: datetime, owner_gone: Callable[[str | None], bool]
) -> Sequence[Any]:
    """Processing rows whose worker is gone: heartbeat too old, or ``owner_gone(locked_by)``.

    Starts a write transaction: the caller releases the rows and commits.
    """
    threshold = now - timedelta(seconds=stale_after_s())
    begin_write()
    rows = db.session.scalars(select(model).where(model.status == OutboxStatus.PROCESSING)).all()
    return [
        row
        for row in rows
        if row.heartbeat_at is None or row.heartbeat_at < threshold or owner_gone(row.locked_by)
    ]


def release_stale(model: OutboxModel, row: Any, now: datetime) -> OutboxStatus | None:
    """Give a dead worker's row back (pending now), or fail it when out of attempts.

    Returns the new status, or None if the row changed hands meanwhile.
    """
    status = OutboxStatus.FAILED if row.attempts >= row.max_attempts else OutboxStatus.PENDING
    timing = {"finished_at": now} if status == OutboxStatus.FAILED else {"available_at": now}
    result = db.session.execute(
        update(model)
        .where(*owned_by(model, row.id, row.locked_by))
        .values(
            status=status,
            locked_by=None,
            last_error=f"worker {row.locked_by} stopped while syncing",
            **timing,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    log.warning(
        "recovered outbox row of a lost worker",
        extra={"outbox_id": row.id, "locked_by": row.locked_by},
    )
    return status


def due_rows(model: OutboxModel, now: datetime, *columns: Any) -> Sequence[Any]:
    """(id, status, *columns) of due pending rows and of queued rows past the grace."""
    queued_before = now - timedelta(seconds=QUEUED_GRACE_S)
    rows = db.session.execute(
        select(model.id, model.status, *columns)
        .where(
            or_(
                (model.status == OutboxStatus.PENDING) & (model.available_at <= now),
                (model.status == OutboxStatus.QUEUED)
                & or_(model.enqueued_at.is_(None), model.enqueued_at < queued_before),
            )
        )
        .order_by(model.available_at)
        .limit(BATCH)
    ).all()
    db.session.commit()
    return rows


def unqueue(model: OutboxModel, row_id: int) -> None:
    """A queued row whose RQ job Redis lost goes back to pending (to be enqueued again)."""
    log.warning("re-enqueueing a row Redis lost", extra={"outbox_id": row_id})
    with db.engine.begin() as conn:
        conn.execute(
            update(model)
            .where(model.id == row_id, model.status == OutboxStatus.QUEUED)
            .values(status=OutboxStatus.PENDING)
        )
