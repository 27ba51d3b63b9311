"""The outbox and the sync task, run in this process against the emulator over HTTP."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy import func, select, update

from pelubot_web import create_app
from pelubot_web.config import Config, current_config
from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.gcal import event_id_for
from pelubot_web.gcal.emulator import EmulatorControl
from pelubot_web.models import CalendarSyncJob, Reservation, Service, Stylist
from pelubot_web.models.types import utcnow
from pelubot_web.services.calendar_outbox import claim, heartbeat
from pelubot_web.services.outbox import backoff_delay
from pelubot_web.tasks.calendar import run_sync_job
from pelubot_web.tasks.dispatcher import enqueue_due_rows, recover_stale_rows
from pelubot_web.tasks.runtime import worker_identity
from tests import factories as f
from tests.conftest import sql_statements
from tests.factories import stored
from tests.sync.changes import book, cancel, reschedule


def _setup() -> tuple[Service, Stylist, Stylist]:
    svc = f.service(name="Corte mujer", duration_min=45)
    ana = f.stylist([svc], name="Ana", calendar_id="ana@calendar.test")
    bea = f.stylist([svc], name="Bea", calendar_id="bea@calendar.test")
    db.session.commit()
    return svc, ana, bea


def _job_of(reservation: Reservation) -> CalendarSyncJob:
    db.session.rollback()
    job = stored(CalendarSyncJob, stored(Reservation, reservation.id).sync_job_id)
    assert job is not None
    return job


def test_a_booking_writes_its_outbox_row_in_the_same_transaction(
    sync_app: Flask, redis_conn: Redis
) -> None:
    svc, ana, _ = _setup()
    res = book(ana, svc, f.local(f.next_weekday(1), 10))
    job = _job_of(res)
    assert res.sync_status == "pending"
    assert job.target_version == 1
    # Enqueued after commit with a job id derived from the row and version.
    assert job.status == "queued"
    queue = Queue("calendar-sync-test", connection=redis_conn)
    assert queue.job_ids == [f"calsync-{job.id}-v1"]


def test_a_rolled_back_booking_leaves_no_outbox_row(sync_app: Flask, redis_conn: Redis) -> None:
    svc, ana, _ = _setup()
    reservation = f.reservation(ana, svc, f.local(f.next_weekday(1), 10))
    from pelubot_web.services.calendar_outbox import record_change

    record_change(reservation)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CalendarSyncJob)) == 0
    assert Queue("calendar-sync-test", connection=redis_conn).count == 0


def test_later_changes_coalesce_into_the_one_open_row(sync_app: Flask, redis_conn: Redis) -> None:
    svc, ana, _ = _setup()
    day = f.next_weekday(2)
    res = book(ana, svc, f.local(day, 10))
    reschedule(res.id, start=f.local(day, 11))
    reschedule(res.id, start=f.local(day, 12))
    jobs = db.session.scalars(select(CalendarSyncJob)).all()
    assert len(jobs) == 1
    assert jobs[0].target_version == 3


def test_booking_succeeds_with_redis_down_and_the_row_stays_pending(
    config: Config, redis_conn: Redis
) -> None:
    app = create_app(config.replace(redis_url="redis://127.0.0.1:1/0"))
    with app.app_context():
        svc, ana, _ = _setup()
        res = book(ana, svc, f.local(f.next_weekday(1), 10))
        job = _job_of(res)
        assert job.status == "pending"
        assert stored(Reservation, res.id).sync_status == "pending"
        db.session.remove()
        db.engine.dispose()


def test_sync_creates_the_event_and_a_rerun_does_not_duplicate_it(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc, ana, _ = _setup()
    res = book(ana, svc, f.local(f.next_weekday(1), 10), notes="Trae foto")
    job = _job_of(res)
    assert run_sync_job(job.id, worker_identity()).status == "succeeded"

    events = emulator.events()
    assert len(events) == 1
    event = events[0]
    assert event["calendarId"] == "ana@calendar.test"
    assert event["id"] == event_id_for(res.uuid)
    assert event["summary"].startswith("Corte mujer")
    assert event["extendedProperties"]["private"]["pelubot_reservation_id"] == res.uuid
    db.session.rollback()
    synced = stored(Reservation, res.id)
    assert synced.sync_status == "synced"
    assert synced.last_synced_at is not None
    assert _job_of(res).status == "succeeded"

    # Operator forces a re-run: the insert gets 409 and becomes an update.
    from pelubot_web.services.sync_status import retry_reservation_sync

    again = retry_reservation_sync(res.uuid)
    assert run_sync_job(again.id, worker_identity()).status == "succeeded"
    assert len(emulator.events()) == 1


def test_a_sync_job_reads_what_its_event_shows_in_one_query(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc, ana, _ = _setup()
    job = _job_of(book(ana, svc, f.local(f.next_weekday(1), 10)))
    db.session.remove()

    with sql_statements() as statements:
        assert run_sync_job(job.id, worker_identity()).status == "succeeded"

    kinds = [s.split()[0] for s in statements if s.split()[0] not in ("BEGIN", "COMMIT")]
    # Claim; the row with its reservation, stylist, service and customer; where the event
    # will live (before Google hears of it); the reservation's sync columns; the row.
    assert kinds == ["UPDATE", "SELECT", "UPDATE", "UPDATE", "UPDATE"], statements
    assert len(emulator.events()) == 1


def test_only_one_worker_can_claim_a_row(sync_app: Flask) -> None:
    svc, ana, _ = _setup()
    res = book(ana, svc, f.local(f.next_weekday(1), 10))
    job = _job_of(res)
    now = utcnow()
    assert claim(job.id, "host-a:1", now) is True
    assert claim(job.id, "host-b:2", now) is False
    assert _job_of(res).locked_by == "host-a:1"


def test_stylist_change_moves_the_event_and_cancel_deletes_it(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc, ana, bea = _setup()
    res = book(ana, svc, f.local(f.next_weekday(3), 16))
    run_sync_job(_job_of(res).id, worker_identity())
    reschedule(res.id, stylist=bea)
    run_sync_job(_job_of(res).id, worker_identity())
    events = emulator.events()
    assert [e["calendarId"] for e in events] == ["bea@calendar.test"]

    cancel(res.id)
    assert run_sync_job(_job_of(res).id, worker_identity()).status == "succeeded"
    assert emulator.events() == []
    db.session.rollback()
    assert stored(Reservation, res.id).sync_status == "synced"


def test_a_permanent_error_fails_at_once_with_the_error_text(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc, ana, _ = _setup()
    res = book(ana, svc, f.local(f.next_weekday(1), 10))
    emulator.add_fault(status=403, reason="forbidden")
    outcome = run_sync_job(_job_of(res).id, worker_identity())
    assert outcome.status == "failed"
    job = _job_of(res)
    assert job.status == "failed"
    assert job.attempts == 1
    assert "forbidden" in (job.last_error or "")
    reservation = stored(Reservation, res.id)
    assert reservation.sync_status == "failed"
    assert "forbidden" in (reservation.last_sync_error or "")
    assert reservation.status == "confirmed", "Google errors never change the reservation"


def test_a_retryable_error_schedules_a_capped_jittered_retry(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc, ana, _ = _setup()
    res = book(ana, svc, f.local(f.next_weekday(1), 10))
    emulator.add_fault(status=503, reason="backendError")
    before = utcnow()
    assert run_sync_job(_job_of(res).id, worker_identity()).status == "retry"
    job = _job_of(res)
    assert job.status == "pending"
    assert job.attempts == 1
    assert "503" in (job.last_error or "")
    cap = current_config(sync_app).sync_backoff_cap_s
    assert before <= job.available_at <= utcnow() + timedelta(seconds=cap)
    assert stored(Reservation, res.id).sync_status == "pending"


def test_backoff_ceiling_doubles_stays_capped_and_jitters() -> None:
    rng = random.Random(7)
    samples = {n: [backoff_delay(n, 2.0, 60.0, rng) for _ in range(200)] for n in range(1, 10)}
    for attempt, values in samples.items():
        ceiling = min(60.0, 2.0 * 2 ** (attempt - 1))
        assert all(0 <= v <= ceiling for v in values)
        assert max(values) > ceiling * 0.8, "full jitter spans the whole range"
        assert len({round(v, 6) for v in values}) > 150, "delays are jittered"
    assert max(samples[9]) <= 60.0
    assert sum(samples[5]) / 200 > sum(samples[1]) / 200


def test_a_change_during_the_google_call_is_synced_afterwards(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc, ana, _ = _setup()
    day = f.next_weekday(4)
    res = book(ana, svc, f.local(day, 10))
    job_id = _job_of(res).id
    emulator.add_fault(latency_ms=800, count=1)
    app = sync_app

    def run() -> None:
        with app.app_context():
            run_sync_job(job_id, "host-x:1")
            db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    # Wait until the worker holds the row, then change the reservation.
    for _ in range(100):
        db.session.rollback()
        if stored(CalendarSyncJob, job_id).status == "processing":
            break
        threading.Event().wait(0.02)
    reschedule(res.id, start=f.local(day, 12))
    thread.join()

    job = _job_of(res)
    assert job.status in ("pending", "queued")
    assert job.target_version == 2
    assert stored(Reservation, res.id).sync_status == "pending"
    assert run_sync_job(job.id, worker_identity()).status == "succeeded"
    (event,) = emulator.events()
    assert event["start"]["dateTime"].startswith(f"{day.isoformat()}T12:00")


def test_rows_of_dead_workers_are_recovered(sync_app: Flask) -> None:
    svc, ana, _ = _setup()
    day = f.next_weekday(1)
    stale = _job_of(book(ana, svc, f.local(day, 10)))
    dead_here = _job_of(book(ana, svc, f.local(day, 11)))
    alive = _job_of(book(ana, svc, f.local(day, 12)))
    long_ago = utcnow() - timedelta(minutes=5)
    stale.status, stale.locked_by, stale.heartbeat_at = "processing", "other-host:1", long_ago
    # A pid that cannot exist on this host (pid_max is far below it).
    dead_here.status, dead_here.locked_by = (
        "processing",
        f"{worker_identity().split(':')[0]}:99999999",
    )
    dead_here.heartbeat_at = utcnow()
    alive.status, alive.locked_by, alive.heartbeat_at = "processing", worker_identity(), utcnow()
    db.session.commit()

    assert recover_stale_rows() == 2
    db.session.rollback()
    assert stored(CalendarSyncJob, stale.id).status == "pending"
    assert stored(CalendarSyncJob, dead_here.id).status == "pending"
    assert stored(CalendarSyncJob, alive.id).status == "processing"


def test_dispatcher_re_enqueues_rows_redis_lost(sync_app: Flask, redis_conn: Redis) -> None:
    svc, ana, _ = _setup()
    job = _job_of(book(ana, svc, f.local(f.next_weekday(1), 10)))
    assert job.status == "queued"

    def queued_a_while_ago() -> None:
        stored(CalendarSyncJob, job.id).enqueued_at = utcnow() - timedelta(minutes=1)
        db.session.commit()

    queued_a_while_ago()
    redis_conn.flushdb()  # Redis lost everything
    assert enqueue_due_rows() == 1
    queue = Queue("calendar-sync-test", connection=redis_conn)
    assert queue.job_ids == [f"calsync-{job.id}-v1"]
    # A row whose job is still in Redis is left alone, however long it has waited.
    queued_a_while_ago()
    assert enqueue_due_rows() == 0
    assert queue.job_ids == [f"calsync-{job.id}-v1"]


def test_the_heartbeat_keeps_a_long_running_row_fresh(sync_app: Flask) -> None:

    svc, ana, _ = _setup()
    job = _job_of(book(ana, svc, f.local(f.next_weekday(1), 10)))
    long_ago = utcnow() - timedelta(minutes=10)
    assert claim(job.id, "host-h:1", utcnow())
    db.session.execute(
        update(CalendarSyncJob).where(CalendarSyncJob.id == job.id).values(heartbeat_at=long_ago)
    )
    db.session.commit()
    with heartbeat(job.id, "host-h:1", interval_s=0.05):
        for _ in range(100):
            db.session.rollback()
            beat = stored(CalendarSyncJob, job.id).heartbeat_at
            if beat is not None and beat > long_ago:
                break
            threading.Event().wait(0.05)
    assert beat is not None
    assert beat > utcnow() - timedelta(seconds=10)
    # A row is only refreshed for the worker that owns it.
    begin_write()
    db.session.execute(
        update(CalendarSyncJob).where(CalendarSyncJob.id == job.id).values(heartbeat_at=long_ago)
    )
    db.session.commit()
    with heartbeat(job.id, "someone-else:2", interval_s=0.05):
        threading.Event().wait(0.3)
    db.session.rollback()
    assert stored(CalendarSyncJob, job.id).heartbeat_at == long_ago
