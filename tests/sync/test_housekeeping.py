"""Old sync history is pruned in batches; what an operator still needs stays."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import select

from pelubot_web.extensions import db
from pelubot_web.models import CalendarPullState, CalendarSyncJob, ExternalBusy, Reservation
from pelubot_web.models.types import utcnow
from pelubot_web.services import housekeeping
from pelubot_web.tasks.ratelimit import BUCKET_KEY, GoogleRateLimiter
from tests import factories as f


def _job(reservation: Reservation, status: str, finished_days_ago: float) -> CalendarSyncJob:
    job = CalendarSyncJob(
        reservation_id=reservation.id,
        target_version=reservation.version,
        status=status,
        finished_at=utcnow() - timedelta(days=finished_days_ago),
    )
    db.session.add(job)
    db.session.flush()
    reservation.sync_job_id = job.id
    return job


def test_prune_removes_old_succeeded_rows_and_ended_busy_blocks_only(
    sync_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(housekeeping, "BATCH", 2)  # several batches on a small table
    svc = f.service()
    ana = f.stylist([svc])
    gone = f.stylist([svc], calendar_id=None)
    day = f.next_weekday(1)
    old = [_job(f.reservation(ana, svc, f.local(day, 9 + i)), "succeeded", 40) for i in range(5)]
    recent = _job(f.reservation(ana, svc, f.local(day, 15)), "succeeded", 1)
    failed = _job(f.reservation(ana, svc, f.local(day, 16)), "failed", 90)
    now = utcnow()
    db.session.add_all(
        [
            ExternalBusy(
                stylist_id=ana.id,
                calendar_id="x",
                event_id="old",
                start_at=now - timedelta(days=3),
                end_at=now - timedelta(days=2),
            ),
            ExternalBusy(
                stylist_id=ana.id,
                calendar_id="x",
                event_id="next",
                start_at=now + timedelta(days=1),
                end_at=now + timedelta(days=1, hours=1),
            ),
            CalendarPullState(stylist_id=gone.id, calendar_id="was@calendar.test"),
        ]
    )
    old_reservations = [job.reservation_id for job in old]
    recent_id, failed_id = recent.id, failed.id
    db.session.commit()

    pruned = housekeeping.prune(retention_days=30)

    assert pruned == {"outbox_rows": 5, "busy_blocks": 1, "pull_states": 1}
    db.session.rollback()
    left = set(db.session.scalars(select(CalendarSyncJob.id)))
    assert left == {recent_id, failed_id}
    for reservation_id in old_reservations:
        reservation = db.session.get(Reservation, reservation_id)
        assert reservation is not None
        assert reservation.sync_job_id is None
    assert [b.event_id for b in db.session.scalars(select(ExternalBusy))] == ["next"]
    assert housekeeping.prune(retention_days=30) == {
        "outbox_rows": 0,
        "busy_blocks": 0,
        "pull_states": 0,
    }


def test_the_google_budget_is_shared_through_redis(redis_conn: Redis) -> None:
    first = GoogleRateLimiter(redis_conn, per_minute=60)  # 1/s, burst of 10
    second = GoogleRateLimiter(redis_conn, per_minute=60)  # another worker, same bucket

    grants = [first.try_acquire() == 0.0 for _ in range(6)]
    grants += [second.try_acquire() == 0.0 for _ in range(4)]
    wait = second.try_acquire()

    assert all(grants)
    assert 0.5 < wait <= 1.01, "the 11th call within a second must wait for a refill"
    assert redis_conn.exists(BUCKET_KEY)
    time.sleep(wait)
    assert first.try_acquire() <= 0.5
