"""Pruning what calendar sync leaves behind, in small batches (short write locks).

Run by the dispatcher once per pull interval. Only finished history goes: succeeded
outbox rows past the retention (failed rows stay until someone acts on them), busy
blocks that ended more than a day ago, and the pull state and busy blocks of stylists
who no longer have a calendar or are inactive.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, or_, select, update

from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.models import (
    CalendarPullState,
    CalendarSyncJob,
    ExternalBusy,
    Reservation,
    Stylist,
)
from pelubot_web.models.types import utcnow

__all__ = ["BATCH", "prune"]

BATCH = 500
# At most this many batches per call, so one cycle never holds the dispatcher long.
MAX_BATCHES = 10


def prune(retention_days: int) -> dict[str, int]:
    """Delete old sync history; returns how many rows of each kind went."""
    now = utcnow()
    return {
        "outbox_rows": _prune_succeeded_rows(now - timedelta(days=retention_days)),
        "busy_blocks": _prune_in_batches(
            ExternalBusy, ExternalBusy.end_at < now - timedelta(days=1)
        ),
        "pull_states": _prune_orphan_pull_states(),
    }


def _prune_succeeded_rows(before: datetime) -> int:
    done = 0
    for _ in range(MAX_BATCHES):
        begin_write()
        ids = db.session.scalars(
            select(CalendarSyncJob.id)
            .where(CalendarSyncJob.status == "succeeded", CalendarSyncJob.finished_at < before)
            .limit(BATCH)
        ).all()
        if not ids:
            db.session.commit()
            break
        # The reservation's pointer to its last row would dangle: clear it first.
        db.session.execute(
            update(Reservation)
            .where(Reservation.sync_job_id.in_(ids))
            .values(sync_job_id=None)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            delete(CalendarSyncJob)
            .where(CalendarSyncJob.id.in_(ids), CalendarSyncJob.status == "succeeded")
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        done += len(ids)
    return done


def _prune_in_batches(model: type[ExternalBusy], condition: ColumnElement[bool]) -> int:
    done = 0
    for _ in range(MAX_BATCHES):
        begin_write()
        ids = db.session.scalars(select(model.id).where(condition).limit(BATCH)).all()
        if ids:
            db.session.execute(
                delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False)
            )
        db.session.commit()
        done += len(ids)
        if len(ids) < BATCH:
            break
    return done


def _prune_orphan_pull_states() -> int:
    begin_write()
    orphans = select(Stylist.id).where(
        or_(Stylist.active.is_(False), Stylist.calendar_id.is_(None))
    )
    # Their imported busy time no longer describes a calendar anyone syncs.
    db.session.execute(
        delete(ExternalBusy)
        .where(ExternalBusy.stylist_id.in_(orphans))
        .execution_options(synchronize_session=False)
    )
    result = db.session.execute(
        delete(CalendarPullState)
        .where(CalendarPullState.stylist_id.in_(orphans))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
