"""Push side of calendar sync: make Google match one reservation's current state.

``sync_calendar_job(job_id)`` is what RQ runs. It claims the outbox row with a
conditional UPDATE (only one worker can win), heartbeats while it talks to Google,
reads the reservation's *current* state and upserts, moves or deletes its event.
Every outcome is written to the row and to the reservation's sync columns. Google
errors never change the reservation itself.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import update

from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.gcal import GoogleCalendarError
from pelubot_web.metrics import GOOGLE_ERRORS, QUEUE_WAIT, SYNC_ATTEMPTS, SYNC_LAG, SYNC_OUTCOMES
from pelubot_web.models import CalendarSyncJob, Reservation
from pelubot_web.models.types import utcnow
from pelubot_web.observability import job_id_var
from pelubot_web.services.outbox import enqueue
from pelubot_web.tasks.google_match import make_google_match
from pelubot_web.tasks.runtime import worker_identity

log = logging.getLogger(__name__)


def backoff_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """Capped exponential backoff with full jitter: uniform(0, min(cap, base * 2^(n-1)))."""
    ceiling = min(cap_s, base_s * (2 ** max(0, attempt - 1)))
    return rng.uniform(0, ceiling)


def stale_after_s() -> float:
    """A processing row whose heartbeat is older than this belongs to a dead worker."""
    cfg = current_app.extensions["pelubot_config"]
    return max(cfg.sync_poll_interval_s * 2, 60.0)


def heartbeat_interval_s() -> float:
    return min(10.0, stale_after_s() / 4)


@dataclass(frozen=True)
class Outcome:
    status: str  # succeeded, retry, failed, lost, skipped
    detail: str = ""


def sync_calendar_job(job_id: int) -> str:
    """RQ entry point (needs an app context: the worker pushes one)."""
    token = job_id_var.set(f"calsync-{job_id}")
    try:
        return run_sync_job(job_id, worker_identity()).status
    finally:
        db.session.remove()
        job_id_var.reset(token)


def claim(job_id: int, worker: str, now: datetime) -> bool:
    """Conditional UPDATE: exactly one worker moves the row to processing."""
    begin_write()
    result = db.session.execute(
        update(CalendarSyncJob)
        .where(
            CalendarSyncJob.id == job_id,
            CalendarSyncJob.status.in_(("pending", "queued")),
            CalendarSyncJob.available_at <= now,
        )
        .values(
            status="processing",
            locked_by=worker,
            heartbeat_at=now,
            started_at=now,
            attempts=CalendarSyncJob.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


class Heartbeat:
    """Refreshes ``heartbeat_at`` from a side thread while the job talks to Google."""

    def __init__(self, job_id: int, worker: str, interval_s: float) -> None:
        self._job_id = job_id
        self._worker = worker
        self._interval = interval_s
        self._stop = threading.Event()
        self._app = current_app._get_current_object()  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)

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
                    update(CalendarSyncJob)
                    .where(
                        CalendarSyncJob.id == self._job_id,
                        CalendarSyncJob.locked_by == self._worker,
                        CalendarSyncJob.status == "processing",
                    )
                    .values(heartbeat_at=utcnow())
                )
        except Exception:  # a missed beat only risks a harmless re-run
            log.warning("heartbeat update failed", exc_info=True)


def run_sync_job(job_id: int, worker: str) -> Outcome:
    cfg = current_app.extensions["pelubot_config"]
    now = utcnow()
    if not claim(job_id, worker, now):
        log.info(
            "outbox row not claimable (taken, finished or not due)", extra={"outbox_id": job_id}
        )
        return Outcome("skipped")
    job = db.session.get(CalendarSyncJob, job_id)
    assert job is not None
    reservation = db.session.get(Reservation, job.reservation_id)
    assert reservation is not None
    version = reservation.version
    attempts = job.attempts
    if attempts == 1:
        QUEUE_WAIT.observe(max(0.0, (now - job.changed_at).total_seconds()))
    log.info(
        "syncing reservation to Google",
        extra={
            "outbox_id": job_id,
            "reservation": reservation.uuid,
            "version": version,
            "attempt": attempts,
        },
    )
    try:
        # "not_required": nothing of this reservation ever belongs in Google.
        required = cfg.gcal_backend != "disabled" and bool(
            reservation.stylist.calendar_id or reservation.synced_calendar_id
        )
        with Heartbeat(job_id, worker, heartbeat_interval_s()):
            calendar_id = make_google_match(reservation) if required else None
    except GoogleCalendarError as exc:
        code = str(exc.status) if exc.status else (exc.reason or "connection")
        GOOGLE_ERRORS.labels(code).inc()
        return _record_failure(
            job_id,
            worker,
            str(exc),
            retryable=exc.retryable,
            attempts=attempts,
            version=version,
            wait=RetryWait.after(exc),
        )
    except Exception as exc:  # an unexpected bug is recorded, retried, visible
        log.exception("unexpected error while syncing", extra={"outbox_id": job_id})
        return _record_failure(
            job_id,
            worker,
            f"internal error: {type(exc).__name__}: {exc}",
            retryable=True,
            attempts=attempts,
            version=version,
        )
    return _record_success(
        job_id, worker, reservation.id, version, calendar_id, attempts, required=required
    )


def _record_success(
    job_id: int,
    worker: str,
    reservation_id: int,
    version: int,
    calendar_id: str | None,
    attempts: int,
    *,
    required: bool,
) -> Outcome:
    now = utcnow()
    db.session.rollback()  # drop the stale snapshot; everything below is conditional
    begin_write()
    # Reservation columns: only claim "synced" if no newer change landed meanwhile.
    synced_status = "synced" if required else "not_required"
    db.session.execute(
        update(Reservation)
        .where(Reservation.id == reservation_id)
        .values(synced_calendar_id=calendar_id, synced_version=version, last_synced_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Reservation)
        .where(Reservation.id == reservation_id, Reservation.version == version)
        .values(sync_status=synced_status, last_sync_error=None)
        .execution_options(synchronize_session=False)
    )
    done = db.session.execute(
        update(CalendarSyncJob)
        .where(
            CalendarSyncJob.id == job_id,
            CalendarSyncJob.locked_by == worker,
            CalendarSyncJob.status == "processing",
            CalendarSyncJob.target_version <= version,
        )
        .values(status="succeeded", finished_at=now, locked_by=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount == 1:  # type: ignore[attr-defined]
        job = db.session.get(CalendarSyncJob, job_id)
        db.session.commit()
        SYNC_OUTCOMES.labels("succeeded").inc()
        SYNC_ATTEMPTS.observe(attempts)
        if job is not None:
            SYNC_LAG.observe(max(0.0, (now - job.changed_at).total_seconds()))
        log.info("reservation synced", extra={"outbox_id": job_id, "version": version})
        return Outcome("succeeded")
    # A newer version arrived while we worked: run again right away with a fresh budget.
    again = db.session.execute(
        update(CalendarSyncJob)
        .where(
            CalendarSyncJob.id == job_id,
            CalendarSyncJob.locked_by == worker,
            CalendarSyncJob.status == "processing",
        )
        .values(status="pending", available_at=now, locked_by=None, attempts=0)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if again.rowcount == 1:  # type: ignore[attr-defined]
        job = db.session.get(CalendarSyncJob, job_id)
        if job is not None:
            enqueue(job.id, job.target_version)
        return Outcome("succeeded", "newer version pending")
    log.warning("outbox row was taken from this worker meanwhile", extra={"outbox_id": job_id})
    return Outcome("lost")


@dataclass(frozen=True)
class RetryWait:
    """What Google asked for: a minimum wait, and whether the attempt should count."""

    min_delay_s: float = 0.0
    counts: bool = True

    @classmethod
    def after(cls, exc: GoogleCalendarError) -> RetryWait:
        if exc.is_quota:
            # Usage limits last minutes to hours: wait long, keep the attempt budget.
            cfg = current_app.extensions["pelubot_config"]
            return cls(max(cfg.sync_quota_backoff_s, exc.retry_after_s or 0.0), counts=False)
        return cls(exc.retry_after_s or 0.0)


def _record_failure(
    job_id: int,
    worker: str,
    error: str,
    *,
    retryable: bool,
    attempts: int,
    version: int,
    wait: RetryWait | None = None,
) -> Outcome:
    cfg = current_app.extensions["pelubot_config"]
    now = utcnow()
    db.session.rollback()
    begin_write()
    job = db.session.get(CalendarSyncJob, job_id)
    if job is None or job.status != "processing" or job.locked_by != worker:
        return Outcome("lost")
    error = error[:2000]
    wait = wait or RetryWait()
    if retryable and not wait.counts:
        attempts = max(0, attempts - 1)  # a quota wait is not a failed attempt
    give_up = not retryable or attempts >= job.max_attempts
    if give_up and job.target_version > version:
        # A newer change arrived meanwhile (maybe another stylist or calendar): it gets its
        # own full attempt budget instead of inheriting this failure.
        give_up, attempts = False, 0
        db.session.execute(
            update(CalendarSyncJob)
            .where(CalendarSyncJob.id == job_id, CalendarSyncJob.locked_by == worker)
            .values(attempts=0)
            .execution_options(synchronize_session=False)
        )
    if give_up:
        values = {"status": "failed", "finished_at": now, "locked_by": None, "last_error": error}
        reservation_status = "failed"
    else:
        delay = backoff_delay(
            attempts, cfg.sync_backoff_base_s, cfg.sync_backoff_cap_s, random.SystemRandom()
        )
        values = {
            "status": "pending",
            "available_at": now + timedelta(seconds=max(delay, wait.min_delay_s)),
            "locked_by": None,
            "last_error": error,
            "attempts": attempts,
        }
        reservation_status = "pending"
    db.session.execute(
        update(CalendarSyncJob)
        .where(CalendarSyncJob.id == job_id, CalendarSyncJob.locked_by == worker)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Reservation)
        .where(Reservation.id == job.reservation_id)
        .values(sync_status=reservation_status, last_sync_error=error)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if give_up:
        SYNC_OUTCOMES.labels("failed").inc()
        SYNC_ATTEMPTS.observe(attempts)
        log.error(
            "calendar sync failed for good",
            extra={"outbox_id": job_id, "attempts": attempts, "error": error},
        )
        return Outcome("failed", error)
    SYNC_OUTCOMES.labels("retry").inc()
    log.warning(
        "calendar sync failed; will retry",
        extra={
            "outbox_id": job_id,
            "attempts": attempts,
            "error": error,
            "retry_at": values["available_at"],
        },
    )
    return Outcome("retry", error)
