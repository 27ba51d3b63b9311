"""Reservation changes made the way the booking service makes them.

Each change locks the row, bumps ``version`` and records the outbox row in the same
transaction, then commits (which enqueues the row on RQ).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.gcal.emulator import EmulatorControl
from pelubot_web.models import CalendarSyncJob, Reservation, Service, Stylist
from pelubot_web.services.calendar_outbox import record_change
from pelubot_web.tasks.calendar import run_sync_job
from pelubot_web.tasks.runtime import worker_identity
from tests import factories as f


def book(stylist: Stylist, service: Service, start: datetime, **fields: Any) -> Reservation:
    begin_write()
    reservation = f.reservation(stylist, service, start, **fields)
    record_change(reservation)
    db.session.commit()
    return reservation


def _locked(reservation_id: int) -> Reservation:
    begin_write()
    reservation = db.session.scalar(
        select(Reservation).where(Reservation.id == reservation_id).with_for_update()
    )
    assert reservation is not None
    return reservation


def reschedule(
    reservation_id: int, *, start: datetime | None = None, stylist: Stylist | None = None
) -> Reservation:
    reservation = _locked(reservation_id)
    if start is not None:
        length = reservation.end_at - reservation.start_at
        reservation.start_at = start
        reservation.end_at = start + length
        reservation.busy_until = reservation.end_at
    if stylist is not None:
        reservation.stylist_id = stylist.id
        db.session.flush()
        db.session.refresh(reservation)
    reservation.version += 1
    record_change(reservation)
    db.session.commit()
    return reservation


def cancel(reservation_id: int) -> Reservation:
    reservation = _locked(reservation_id)
    reservation.status = "cancelled"
    reservation.version += 1
    record_change(reservation)
    db.session.commit()
    return reservation


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def fail_first_sync(reservation: Reservation, emulator: EmulatorControl) -> None:
    """Run the reservation's sync once against a permanent 403, so its job ends failed."""
    emulator.add_fault(status=403, reason="forbidden", count=1)
    run_sync_job(reservation.sync_job_id, worker_identity())  # type: ignore[arg-type]
    db.session.rollback()


def run_open_jobs() -> None:
    """Run every pending or queued outbox row in this process, as a worker would."""
    db.session.rollback()
    ids = db.session.scalars(
        select(CalendarSyncJob.id).where(CalendarSyncJob.status.in_(("pending", "queued")))
    ).all()
    for job_id in ids:
        run_sync_job(job_id, worker_identity())
