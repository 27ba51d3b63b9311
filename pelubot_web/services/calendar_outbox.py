"""The calendar-sync outbox: every status transition of a ``CalendarSyncJob`` lives here.

record (in the booking transaction) -> enqueue (after commit) -> claim -> succeed |
retry | fail, plus the dispatcher's recovery of dead workers' rows and re-enqueue of
rows Redis lost, and the operator's retries. Workers (``tasks/calendar.py``,
``tasks/dispatcher.py``) and ``sync_status`` only call these functions; the reservation's
``sync_status`` columns are written here too. The mechanics (enqueue after commit, claim,
heartbeat, stale recovery, due rows, lost jobs, backoff) are ``services/outbox.py``'s,
driven by ``SPEC``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.orm.attributes import set_committed_value

from pelubot_web.config import current_config
from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.metrics import SYNC_ATTEMPTS, SYNC_LAG, SYNC_OUTCOMES
from pelubot_web.models import CalendarSyncJob, Reservation
from pelubot_web.models.outbox import OPEN_OUTBOX_STATUSES, OutboxStatus
from pelubot_web.models.reservation import SyncStatus
from pelubot_web.models.types import utcnow
from pelubot_web.services import outbox, outbox_sweeps
from pelubot_web.services.errors import NotFound

log = logging.getLogger(__name__)

SPEC = outbox.OutboxSpec(
    name="calendar sync",
    model=CalendarSyncJob,
    pending=OutboxStatus.PENDING,
    queued=OutboxStatus.QUEUED,
    processing=OutboxStatus.PROCESSING,
    failed=OutboxStatus.FAILED,
    task_path="pelubot_web.tasks.calendar.sync_calendar_job",
    queue_name=lambda cfg: cfg.queue_name,
    # Re-enqueues of one version deduplicate; a newer version is a new job.
    job_id_format="calsync-{id}-v{key}",
    job_key="target_version",
    job_timeout_s=300,
    backoff_s=lambda cfg: (cfg.sync_backoff_base_s, cfg.sync_backoff_cap_s),
    activity="syncing",
    started_at="started_at",
)


@dataclass(frozen=True)
class Outcome:
    """What one run of a sync job ended as (RQ's result, and the tests' handle)."""

    status: str  # succeeded, retry, failed, lost, skipped
    detail: str = ""


def open_row(reservation_id: int, *, except_id: int | None = None) -> CalendarSyncJob | None:
    """The reservation's open outbox row (there is at most one)."""
    query = select(CalendarSyncJob).where(
        CalendarSyncJob.reservation_id == reservation_id,
        CalendarSyncJob.status.in_(OPEN_OUTBOX_STATUSES),
    )
    if except_id is not None:
        query = query.where(CalendarSyncJob.id != except_id)
    return db.session.scalar(query)


def _new_row(reservation: Reservation, now: datetime) -> CalendarSyncJob:
    job = CalendarSyncJob(
        reservation_id=reservation.id,
        target_version=reservation.version,
        status=OutboxStatus.PENDING,
        max_attempts=current_config().sync_max_attempts,
        available_at=now,
        changed_at=now,
    )
    db.session.add(job)
    db.session.flush()
    return job


def record_change(
    reservation: Reservation, *, new: bool = False, now: datetime | None = None
) -> CalendarSyncJob:
    """Upsert the reservation's open outbox row to target its current version.

    ``new``: the reservation was created in this transaction, so it has no rows to look
    for (saves two queries per booking).

    Call it in the same transaction that changed the reservation, after bumping
    ``reservation.version`` and after locking the reservation row (``with_for_update``),
    which serialises concurrent changes of one reservation. The rows are enqueued on RQ
    once that transaction commits; if Redis is down they stay pending for the dispatcher.
    """
    now = now or utcnow()
    db.session.flush()
    needs_sync = reservation.stylist.calendar_id is not None or (
        reservation.synced_calendar_id is not None
    )
    job = None if new else _retarget_open_row(reservation, now)
    if job is None and not new:
        job = reopen_failed_row(reservation.id, reservation.version, now)
    if job is None:
        job = _new_row(reservation, now)
    reservation.sync_status = SyncStatus.PENDING if needs_sync else SyncStatus.NOT_REQUIRED
    reservation.sync_job_id = job.id
    # The relationship is view-only: tell it which row that is, rather than re-read it.
    set_committed_value(reservation, "sync_job", job)
    outbox.enqueue_after_commit(SPEC, job.id, job.target_version)
    return job


def _retarget_open_row(reservation: Reservation, now: datetime) -> CalendarSyncJob | None:
    """Point the reservation's open row (at most one) at its current version; None if
    it has none. One conditional UPDATE ... RETURNING: a row a worker finished meanwhile
    is no longer open and is left alone (PostgreSQL re-checks the WHERE after waiting
    for the row's lock), and a new row is made instead."""
    job: CalendarSyncJob | None = db.session.scalar(
        update(CalendarSyncJob)
        .where(
            CalendarSyncJob.reservation_id == reservation.id,
            CalendarSyncJob.status.in_(OPEN_OUTBOX_STATUSES),
        )
        .values(target_version=reservation.version, changed_at=now)
        .returning(CalendarSyncJob),
        execution_options={"synchronize_session": False, "populate_existing": True},
    )
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
            CalendarSyncJob.status == OutboxStatus.FAILED,
        )
        .order_by(CalendarSyncJob.id.desc())
        .limit(1)
    )
    if failed_id is None:
        return None
    reopened = outbox.reopen(
        SPEC,
        CalendarSyncJob.id == failed_id,
        CalendarSyncJob.status == OutboxStatus.FAILED,
        now=now,
        target_version=version,
        changed_at=now,
    )
    if reopened != 1:
        return None
    job = db.session.get(CalendarSyncJob, failed_id)
    if job is not None:
        db.session.refresh(job)
    return job


# --- worker side -----------------------------------------------------------------------


def claim(job_id: int, worker: str, now: datetime) -> bool:
    """Exactly one worker moves a due row to processing."""
    return outbox.claim(SPEC, job_id, worker, now)


def heartbeat(job_id: int, worker: str, interval_s: float | None = None) -> outbox.Heartbeat:
    """Context manager keeping a claimed row fresh while the worker talks to Google."""
    return outbox.Heartbeat(SPEC, job_id, worker, interval_s)


def record_success(
    job: CalendarSyncJob, worker: str, version: int, calendar_id: str | None, *, required: bool
) -> Outcome:
    """Google matches ``version``: the row succeeds, unless a newer version arrived."""
    job_id, reservation_id, attempts = job.id, job.reservation_id, job.attempts
    now = utcnow()
    db.session.rollback()  # drop the stale snapshot; everything below is conditional
    begin_write()
    # Where the event lives is recorded whatever happened meanwhile; "synced" only if no
    # newer change landed (then the reservation stays pending for that change's run).
    current = Reservation.version == version
    db.session.execute(
        update(Reservation)
        .where(Reservation.id == reservation_id)
        .values(
            synced_calendar_id=calendar_id,
            synced_version=version,
            last_synced_at=now,
            sync_status=case(
                (current, SyncStatus.SYNCED if required else SyncStatus.NOT_REQUIRED),
                else_=Reservation.sync_status,
            ),
            last_sync_error=case((current, None), else_=Reservation.last_sync_error),
        )
        .execution_options(synchronize_session=False)
    )
    changed_at = db.session.scalar(
        update(CalendarSyncJob)
        .where(*outbox.owned_by(SPEC, job_id, worker), CalendarSyncJob.target_version <= version)
        .values(status=OutboxStatus.SUCCEEDED, finished_at=now, locked_by=None, last_error=None)
        .returning(CalendarSyncJob.changed_at)
        .execution_options(synchronize_session=False)
    )
    if changed_at is not None:
        db.session.commit()
        SYNC_OUTCOMES.labels("succeeded").inc()
        SYNC_ATTEMPTS.observe(attempts)
        SYNC_LAG.observe(max(0.0, (now - changed_at).total_seconds()))
        log.info("reservation synced", extra={"outbox_id": job_id, "version": version})
        return Outcome("succeeded")
    return _run_newer_version(job_id, worker, now)


def _run_newer_version(job_id: int, worker: str, now: datetime) -> Outcome:
    """A newer version arrived while we worked: run again right away with a fresh budget."""
    again = outbox.reopen(SPEC, *outbox.owned_by(SPEC, job_id, worker), now=now)
    db.session.commit()
    if again == 1:
        job = db.session.get(CalendarSyncJob, job_id)
        if job is not None:
            outbox.enqueue(SPEC, job.id, job.target_version)
        return Outcome("succeeded", "newer version pending")
    log.warning("outbox row was taken from this worker meanwhile", extra={"outbox_id": job_id})
    return Outcome("lost")


def record_failure(
    job_id: int,
    worker: str,
    error: str,
    *,
    retryable: bool,
    attempts: int,
    version: int,
    min_delay_s: float = 0.0,
    counts: bool = True,
) -> Outcome:
    """Google refused or failed: retry later with backoff, or fail for good.

    ``min_delay_s`` is a wait Google asked for (Retry-After, quota); with ``counts=False``
    the attempt does not use up the budget (a quota wait is not a failed attempt).
    """
    now = utcnow()
    db.session.rollback()
    begin_write()
    job = db.session.get(CalendarSyncJob, job_id)
    if job is None or job.status != OutboxStatus.PROCESSING or job.locked_by != worker:
        return Outcome("lost")
    error = error[:2000]
    if retryable and not counts:
        attempts = max(0, attempts - 1)
    give_up = not retryable or attempts >= job.max_attempts
    if give_up and job.target_version > version:
        # A newer change arrived meanwhile (maybe another stylist or calendar): it gets its
        # own full attempt budget instead of inheriting this failure.
        give_up, attempts = False, 0
    values: dict[str, object] = {"locked_by": None, "last_error": error, "attempts": attempts}
    if give_up:
        values.update(status=OutboxStatus.FAILED, finished_at=now)
    else:
        values.update(
            status=OutboxStatus.PENDING,
            available_at=outbox.retry_at(SPEC, now, attempts, min_delay_s=min_delay_s),
        )
    db.session.execute(
        update(CalendarSyncJob)
        .where(CalendarSyncJob.id == job_id, CalendarSyncJob.locked_by == worker)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    _mark_reservation(
        job.reservation_id, SyncStatus.FAILED if give_up else SyncStatus.PENDING, error
    )
    db.session.commit()
    return _failure_outcome(job_id, error, attempts, give_up, values.get("available_at"))


def _mark_reservation(reservation_id: int, status: SyncStatus, error: str) -> None:
    db.session.execute(
        update(Reservation)
        .where(Reservation.id == reservation_id)
        .values(sync_status=status, last_sync_error=error)
        .execution_options(synchronize_session=False)
    )


def _failure_outcome(
    job_id: int, error: str, attempts: int, give_up: bool, retry_time: object
) -> Outcome:
    extra = {"outbox_id": job_id, "attempts": attempts, "error": error}
    if give_up:
        SYNC_OUTCOMES.labels("failed").inc()
        SYNC_ATTEMPTS.observe(attempts)
        log.error("calendar sync failed for good", extra=extra)
        return Outcome("failed", error)
    SYNC_OUTCOMES.labels("retry").inc()
    log.warning("calendar sync failed; will retry", extra={**extra, "retry_at": retry_time})
    return Outcome("retry", error)


# --- dispatcher side -------------------------------------------------------------------


def recover_stale_rows(owner_gone: Callable[[str | None], bool]) -> int:
    """Give rows of dead workers back to the queue (or fail them if out of attempts)."""
    return outbox_sweeps.recover_stale(SPEC, owner_gone, on_failed=_mark_lost_worker)


def _mark_lost_worker(job: CalendarSyncJob) -> None:
    job.reservation.sync_status = SyncStatus.FAILED
    job.reservation.last_sync_error = f"worker {job.locked_by} stopped while syncing"


def enqueue_due() -> int:
    """Push due rows, and re-push queued rows whose RQ job Redis lost."""
    return outbox_sweeps.enqueue_due(SPEC)


# --- operator side ---------------------------------------------------------------------


def retry(job: CalendarSyncJob) -> int:
    """Send a row back to the queue now, with a fresh attempt budget; returns the row used.

    A failed (or stuck pending) row is reset; a row that succeeded is re-run (harmless:
    sync is state-based); a row being processed right now is left alone.
    """
    if job.status == OutboxStatus.PROCESSING:
        return job.id
    if job.status == OutboxStatus.SUCCEEDED or open_row(job.reservation_id, except_id=job.id):
        # A newer open row already carries this reservation: retrying means that row.
        return retry_reservation(job.reservation.uuid)
    _reset_for_retry(job)
    job_id, target_version = job.id, job.target_version
    db.session.commit()
    outbox.enqueue(SPEC, job_id, target_version)
    return job_id


def retry_all_failed() -> int:
    """Reset every failed row; returns how many were re-queued."""
    begin_write()
    ids = db.session.scalars(
        select(CalendarSyncJob.id).where(CalendarSyncJob.status == OutboxStatus.FAILED)
    ).all()
    for job_id in ids:
        job = db.session.get(CalendarSyncJob, job_id)
        if (
            job is not None
            and job.status == OutboxStatus.FAILED
            and not open_row(job.reservation_id)
        ):
            _reset_for_retry(job)
    db.session.commit()
    due = db.session.execute(
        select(CalendarSyncJob.id, CalendarSyncJob.target_version).where(
            CalendarSyncJob.id.in_(ids), CalendarSyncJob.status == OutboxStatus.PENDING
        )
    ).all()
    db.session.commit()
    for job_id, target_version in due:
        outbox.enqueue(SPEC, job_id, target_version)
    return len(due)


def retry_reservation(reservation_uuid: str) -> int:
    """Make sure the reservation's event is (re)synced: reuse or open a row; returns it."""
    begin_write()
    reservation = db.session.scalar(
        select(Reservation).where(Reservation.uuid == reservation_uuid).with_for_update()
    )
    if reservation is None:
        raise NotFound(f"reservation {reservation_uuid} does not exist")
    job = open_row(reservation.id) or reopen_failed_row(
        reservation.id, reservation.version, utcnow()
    )
    if job is None:
        job = _new_row(reservation, utcnow())
    elif job.status != OutboxStatus.PROCESSING:
        _reset_for_retry(job)
    reservation.sync_job_id = job.id
    if reservation.sync_status != SyncStatus.NOT_REQUIRED:
        reservation.sync_status = SyncStatus.PENDING
    job_id, target_version, status = job.id, job.target_version, job.status
    db.session.commit()
    if status in (OutboxStatus.PENDING, OutboxStatus.QUEUED):
        outbox.enqueue(SPEC, job_id, target_version)
    return job_id


def _reset_for_retry(job: CalendarSyncJob) -> None:
    outbox.reopen(
        SPEC,
        CalendarSyncJob.id == job.id,
        CalendarSyncJob.status != OutboxStatus.PROCESSING,
        now=utcnow(),
    )
    if job.reservation.sync_status == SyncStatus.FAILED:
        job.reservation.sync_status = SyncStatus.PENDING
