"""Push side of calendar sync: make Google match one reservation's current state.

``sync_calendar_job(job_id)`` is what RQ runs. It claims the outbox row, heartbeats
while it talks to Google, reads the reservation's *current* state and upserts, moves or
deletes its event. Every status transition (claim, success, retry, failure) is
``services/calendar_outbox``'s; this module only talks to Google. Google errors never
change the reservation itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from pelubot_web.config import current_config
from pelubot_web.extensions import db
from pelubot_web.gcal import (
    EventData,
    EventIdUnusable,
    GoogleCalendarError,
    build_event_body,
    event_id_for,
    next_event_id,
)
from pelubot_web.metrics import GOOGLE_ERRORS, QUEUE_WAIT
from pelubot_web.models import CalendarSyncJob, Reservation
from pelubot_web.models.reservation import LIVE_STATUSES
from pelubot_web.models.types import utcnow
from pelubot_web.observability import job_id_var
from pelubot_web.services import calendar_outbox
from pelubot_web.services.calendar_outbox import Outcome
from pelubot_web.tasks.runtime import gateway_for_calendar, gateway_for_stylist, worker_identity

log = logging.getLogger(__name__)


def sync_calendar_job(job_id: int) -> str:
    """RQ entry point (needs an app context: the worker pushes one)."""
    token = job_id_var.set(f"calsync-{job_id}")
    try:
        return run_sync_job(job_id, worker_identity()).status
    finally:
        db.session.remove()
        job_id_var.reset(token)


def _event_data(reservation: Reservation) -> EventData:
    cfg = current_config()
    return EventData(
        reservation_uuid=reservation.uuid,
        service_name=reservation.service.name,
        customer_first_name=reservation.customer_first_name,
        customer_phone=reservation.customer.phone,
        stylist_name=reservation.stylist.name,
        start=reservation.start_at,
        end=reservation.end_at,
        timezone=cfg.timezone,
        notes=reservation.notes,
    )


# A worker runs these for every job: they are built once (building a statement and its
# cache key cost more than running it).


@cache
def _job_and_reservation() -> Any:
    """The row and the reservation with everything its event shows, in one query."""
    return (
        select(CalendarSyncJob, Reservation)
        .join(Reservation, Reservation.id == CalendarSyncJob.reservation_id)
        .where(CalendarSyncJob.id == bindparam("job_id"))
        .options(
            joinedload(Reservation.stylist),
            joinedload(Reservation.service),
            joinedload(Reservation.customer),
        )
    )


@cache
def _event_location() -> Any:
    return (
        update(Reservation)
        .where(Reservation.id == bindparam("reservation_id"))
        .values(synced_calendar_id=bindparam("calendar_id"), gcal_event_id=bindparam("event_id"))
    )


def _set_event_location(reservation_id: int, calendar_id: str | None, event_id: str) -> None:
    """Intent first: where the event lives and under which id, before Google hears of it."""
    with db.engine.begin() as conn:
        conn.execute(
            _event_location(),
            {"reservation_id": reservation_id, "calendar_id": calendar_id, "event_id": event_id},
        )


# A purged id is rare; a few generations in one run means something else is wrong.
MAX_ID_GENERATIONS = 3


def make_google_match(reservation: Reservation) -> str | None:
    """Upsert, move or delete the reservation's event. Returns where the event lives now.

    ``synced_calendar_id`` and ``gcal_event_id`` are written *before* an insert (intent
    first), so a worker that dies after Google accepted the event still leaves a pointer
    to clean it up later. An event PeluBot already wrote to this calendar is updated
    directly (one call instead of insert, 409, update).
    """
    gateway = gateway_for_stylist(reservation.stylist)
    event_id = reservation.gcal_event_id or event_id_for(reservation.uuid)
    target = reservation.stylist.calendar_id if reservation.status in LIVE_STATUSES else None
    previous = reservation.synced_calendar_id
    if previous and previous != target:
        # Stylist changed (or the event must go): delete from the old calendar first.
        # A missing event counts as deleted (a repeat is harmless); a missing *calendar*
        # raises, so orphaned events are never reported as synced.
        gateway_for_calendar(previous, reservation.stylist).delete_event(previous, event_id)
        _set_event_location(reservation.id, None, event_id)
    if target is None:
        return None
    known = previous == target and reservation.synced_version is not None
    if previous != target:
        _set_event_location(reservation.id, target, event_id)
    body = build_event_body(_event_data(reservation))
    for _ in range(MAX_ID_GENERATIONS):
        try:
            gateway.upsert_event(target, event_id, {**body, "id": event_id}, known=known)
            return target
        except EventIdUnusable:
            event_id, known = next_event_id(event_id), False
            log.warning(
                "event id purged by Google; moving to a new generation",
                extra={"reservation": reservation.uuid, "event_id": event_id},
            )
            _set_event_location(reservation.id, target, event_id)
    raise GoogleCalendarError(f"no usable event id for reservation {reservation.uuid}")


@dataclass(frozen=True)
class RetryWait:
    """What Google asked for: a minimum wait, and whether the attempt should count."""

    min_delay_s: float = 0.0
    counts: bool = True

    @classmethod
    def after(cls, exc: GoogleCalendarError) -> RetryWait:
        if exc.is_quota:
            # Usage limits last minutes to hours: wait long, keep the attempt budget.
            cfg = current_config()
            return cls(max(cfg.sync_quota_backoff_s, exc.retry_after_s or 0.0), counts=False)
        return cls(exc.retry_after_s or 0.0)


def run_sync_job(job_id: int, worker: str) -> Outcome:
    cfg = current_config()
    now = utcnow()
    if not calendar_outbox.claim(job_id, worker, now):
        log.info(
            "outbox row not claimable (taken, finished or not due)", extra={"outbox_id": job_id}
        )
        return Outcome("skipped")
    job, reservation = db.session.execute(_job_and_reservation(), {"job_id": job_id}).one()
    version, attempts = reservation.version, job.attempts
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
        with calendar_outbox.heartbeat(job_id, worker):
            calendar_id = make_google_match(reservation) if required else None
    except GoogleCalendarError as exc:
        code = str(exc.status) if exc.status else (exc.reason or "connection")
        GOOGLE_ERRORS.labels(code).inc()
        wait = RetryWait.after(exc)
        return calendar_outbox.record_failure(
            job_id,
            worker,
            str(exc),
            retryable=exc.retryable,
            attempts=attempts,
            version=version,
            min_delay_s=wait.min_delay_s,
            counts=wait.counts,
        )
    except Exception as exc:  # an unexpected bug is recorded, retried, visible
        log.exception("unexpected error while syncing", extra={"outbox_id": job_id})
        return calendar_outbox.record_failure(
            job_id,
            worker,
            f"internal error: {type(exc).__name__}: {exc}",
            retryable=True,
            attempts=attempts,
            version=version,
        )
    return calendar_outbox.record_success(job, worker, version, calendar_id, required=required)
