"""What an operator woken at night uses: counters, job lists, retries, the CLI."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from redis import Redis
from rq import Queue
from sqlalchemy import select

from pelubot_web.extensions import db
from pelubot_web.gcal.emulator import EmulatorControl
from pelubot_web.models import CalendarSyncJob, Reservation
from pelubot_web.models.types import utcnow
from pelubot_web.services import sync_status
from pelubot_web.services.errors import InvalidInput, NotFound
from pelubot_web.tasks.calendar import run_sync_job
from pelubot_web.tasks.runtime import worker_identity
from tests import factories as f
from tests.factories import stored, sync_job_id
from tests.sync.changes import book, fail_first_sync


def _failed_booking(emulator: EmulatorControl, hour: int = 10) -> Reservation:
    svc = f.service()
    ana = f.stylist([svc], calendar_id=f"ana{hour}@calendar.test")
    db.session.commit()
    res = book(ana, svc, f.local(f.next_weekday(1), hour))
    fail_first_sync(res, emulator)
    return stored(Reservation, res.id)


def test_snapshot_counts_rows_and_ages_the_oldest_unsynced_change(
    sync_app: Flask, redis_conn: Redis
) -> None:
    svc = f.service()
    ana = f.stylist([svc], calendar_id="ana@calendar.test")
    db.session.commit()
    res = book(ana, svc, f.local(f.next_weekday(1), 10))
    job = stored(CalendarSyncJob, res.sync_job_id)
    job.changed_at = utcnow() - timedelta(minutes=3)
    db.session.commit()
    sync_status.record_worker_heartbeat(redis_conn, "w1")

    snap = sync_status.queue_snapshot()
    by_status = cast(dict[str, int], snap["by_status"])
    assert by_status["queued"] == 1
    assert by_status["failed"] == 0
    assert 170 < snap["oldest_pending_age_s"] < 400  # type: ignore[operator]
    assert snap["worker_heartbeat_age_s"] is not None


def test_list_jobs_filters_and_paginates(sync_app: Flask, emulator: EmulatorControl) -> None:
    failed = _failed_booking(emulator)
    svc = f.service()
    bea = f.stylist([svc], calendar_id="bea@calendar.test")
    db.session.commit()
    day = f.next_weekday(2)
    for hour in (9, 10, 11):
        book(bea, svc, f.local(day, hour))

    items, total = sync_status.list_jobs(status="failed")
    assert total == 1
    assert items[0].reservation_id == failed.id
    items, total = sync_status.list_jobs(stylist_id=bea.id, limit=2)
    assert total == 3
    assert len(items) == 2
    items, total = sync_status.list_jobs(stylist_id=bea.id, limit=2, offset=2)
    assert total == 3
    assert len(items) == 1
    _, total = sync_status.list_jobs(day=day)
    assert total == 3
    with pytest.raises(InvalidInput):
        sync_status.list_jobs(status="exploded")
    with pytest.raises(InvalidInput):
        sync_status.list_jobs(limit=1000)
    with pytest.raises(NotFound):
        sync_status.get_job(999999)


def test_retry_job_resets_the_budget_and_requeues(
    sync_app: Flask, emulator: EmulatorControl, redis_conn: Redis
) -> None:
    res = _failed_booking(emulator)
    assert res.sync_status == "failed"
    job = sync_status.retry_job(sync_job_id(res))
    assert job.status == "queued"
    assert job.attempts == 0
    assert stored(Reservation, res.id).sync_status == "pending"
    assert f"calsync-{job.id}-v1" in Queue("calendar-sync-test", connection=redis_conn).job_ids
    assert run_sync_job(job.id, worker_identity()).status == "succeeded"


def test_cli_status_and_retry_failed(
    sync_app: Flask, runner: FlaskCliRunner, emulator: EmulatorControl, redis_conn: Redis
) -> None:
    res = _failed_booking(emulator)
    status = runner.invoke(args=["sync", "status"])
    assert status.exit_code == 0, status.output
    assert "failed      1" in status.output
    assert res.uuid in status.output
    assert "forbidden" in status.output
    assert "none has reported" in status.output

    retried = runner.invoke(args=["sync", "retry-failed"])
    assert retried.exit_code == 0
    assert "Re-queued 1" in retried.output
    db.session.rollback()
    assert stored(CalendarSyncJob, res.sync_job_id).status == "queued"

    missing = runner.invoke(args=["sync", "retry", "424242"])
    assert missing.exit_code != 0
    assert "does not exist" in missing.output


def test_resync_rebuilds_a_calendar_that_was_emptied_by_hand(
    sync_app: Flask, runner: FlaskCliRunner, emulator: EmulatorControl, redis_conn: Redis
) -> None:
    svc = f.service()
    ana = f.stylist([svc], slug="ana", calendar_id="ana@calendar.test")
    bea = f.stylist([svc], slug="bea", calendar_id="bea@calendar.test")
    db.session.commit()
    day = f.next_weekday(1)
    mine = [book(ana, svc, f.local(day, h)) for h in (10, 11)]
    book(bea, svc, f.local(day, 10))
    past = f.reservation(ana, svc, f.local(f.next_weekday(1, weeks_ahead=-2), 10))
    db.session.commit()
    for res in mine:
        run_sync_job(sync_job_id(res), worker_identity())
    emulator.reset()  # somebody wiped the calendar
    emulator.register_calendar("ana@calendar.test")

    result = runner.invoke(args=["sync", "resync", "--stylist", "ana"])
    assert result.exit_code == 0, result.output
    assert "Queued 2 upcoming" in result.output
    db.session.rollback()
    assert stored(Reservation, past.id).sync_job_id is None, "the past is left alone"
    for res in mine:
        job_id = sync_job_id(stored(Reservation, res.id))
        assert run_sync_job(job_id, worker_identity()).status == "succeeded"
    assert sorted(e["calendarId"] for e in emulator.events()) == ["ana@calendar.test"] * 2

    missing = runner.invoke(args=["sync", "resync", "--stylist", "nadie"])
    assert missing.exit_code != 0
    assert "no stylist" in missing.output


def test_expired_idempotency_records_are_purged(sync_app: Flask) -> None:
    from pelubot_web.models import IdempotencyRecord
    from pelubot_web.services.idempotency import purge_expired

    old = IdempotencyRecord(
        principal="key:1",
        key="a",
        request_fingerprint="x",
        status_code=201,
        response_body="{}",
        created_at=utcnow() - timedelta(hours=25),
    )
    fresh = IdempotencyRecord(
        principal="key:1", key="b", request_fingerprint="x", status_code=201, response_body="{}"
    )
    db.session.add_all([old, fresh])
    db.session.commit()
    assert purge_expired() == 1
    assert [r.key for r in db.session.scalars(select(IdempotencyRecord))] == ["b"]
