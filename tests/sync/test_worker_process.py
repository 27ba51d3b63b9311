"""End to end: real ``python worker.py`` processes, real Redis, the emulator over HTTP."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from pelubot_web import create_app
from pelubot_web.config import Config
from pelubot_web.extensions import db
from pelubot_web.gcal import event_id_for
from pelubot_web.gcal.emulator import EmulatorControl
from pelubot_web.models import CalendarSyncJob, Reservation, Service, Stylist
from pelubot_web.services import sync_status
from tests import factories as f
from tests.conftest import free_port
from tests.factories import stored
from tests.sync.changes import book, cancel, reschedule
from tests.sync.conftest import WorkerProcess, wait_until

pytestmark = pytest.mark.slow

StartWorker = Callable[..., WorkerProcess]


def _statuses() -> dict[str, int]:
    return dict(
        db.session.execute(
            select(Reservation.sync_status, func.count()).group_by(Reservation.sync_status)
        ).all()
    )


def _all_synced(expected: int) -> Callable[[], bool]:
    return lambda: _statuses() == {"synced": expected}


def _salon() -> tuple[Service, Stylist, Stylist]:
    svc = f.service(name="Color raíz", duration_min=60)
    ana = f.stylist([svc], name="Ana", calendar_id="ana@calendar.test")
    bea = f.stylist([svc], name="Bea", calendar_id="bea@calendar.test")
    db.session.commit()
    return svc, ana, bea


def _wait_until_a_worker_holds(reservation: Reservation) -> int:
    """The id of the reservation's outbox row, once a worker has claimed it."""
    job_id = stored(Reservation, reservation.id).sync_job_id
    wait_until(
        lambda: stored(CalendarSyncJob, job_id).status == "processing",
        what="worker holds the row",
    )
    assert job_id is not None
    return job_id


def _events_by_id(emulator: EmulatorControl) -> dict[str, dict[str, object]]:
    return {e["id"]: e for e in emulator.events()}


def test_create_reschedule_cancel_and_stylist_change_mirror_exactly(
    sync_app: Flask, emulator: EmulatorControl, start_worker: StartWorker
) -> None:
    svc, ana, bea = _salon()
    day = f.next_weekday(1)
    start_worker()
    kept = book(ana, svc, f.local(day, 10))
    moved = book(ana, svc, f.local(day, 12))
    dropped = book(bea, svc, f.local(day, 10))
    reschedule(kept.id, start=f.local(day, 16))
    reschedule(moved.id, stylist=bea)
    cancel(dropped.id)
    wait_until(_all_synced(3), what="all reservations synced")

    events = _events_by_id(emulator)
    assert set(events) == {event_id_for(kept.uuid), event_id_for(moved.uuid)}
    kept_event = events[event_id_for(kept.uuid)]
    assert kept_event["calendarId"] == "ana@calendar.test"
    assert str(kept_event["start"]["dateTime"]).startswith(f"{day}T16:00:00")  # type: ignore[index]
    assert str(kept_event["summary"]).startswith("Color raíz")
    assert events[event_id_for(moved.uuid)]["calendarId"] == "bea@calendar.test"


def test_twenty_rapid_changes_end_in_one_event_with_the_final_state(
    sync_app: Flask, emulator: EmulatorControl, start_worker: StartWorker
) -> None:
    svc, ana, bea = _salon()
    day = f.next_weekday(2)
    start_worker()
    res = book(ana, svc, f.local(day, 9))
    for i in range(20):
        reschedule(res.id, start=f.local(day, 10 + (i % 8)), stylist=bea if i % 2 else ana)
    wait_until(_all_synced(1), what="final state synced")
    final = stored(Reservation, res.id)
    assert final.version == 21
    (event,) = emulator.events()
    assert event["calendarId"] == final.stylist.calendar_id
    assert str(event["start"]["dateTime"]).startswith(
        final.start_at.astimezone(f.MADRID).isoformat()[:19]
    )
    open_rows = db.session.scalar(
        select(func.count())
        .select_from(CalendarSyncJob)
        .where(CalendarSyncJob.status.in_(("pending", "queued", "processing")))
    )
    assert open_rows == 0


def test_half_of_google_failing_still_syncs_everything_with_growing_attempts(
    sync_app: Flask, emulator: EmulatorControl, start_worker: StartWorker
) -> None:
    svc, ana, _ = _salon()
    day = f.next_weekday(3)
    emulator.add_fault(status=503, reason="backendError", rate=0.5)
    reservations = [book(ana, svc, f.local(day, 9) + f.timedelta(hours=h)) for h in range(10)]
    # With the default 8 attempts, 1 job in 256 would exhaust its budget at a 50% failure
    # rate; this test is about retries converging, so give them room (backoff stays capped).
    db.session.execute(update(CalendarSyncJob).values(max_attempts=30))
    db.session.commit()
    start_worker()
    wait_until(_all_synced(10), timeout=60, what="all synced despite 503s")

    jobs = db.session.scalars(select(CalendarSyncJob)).all()
    assert all(job.status == "succeeded" for job in jobs)
    assert max(job.attempts for job in jobs) > 1, "some jobs needed retries"
    stats = emulator.stats()
    assert stats["faulted"] > 0
    assert len(emulator.events()) == len(reservations)


def test_permanent_forbidden_fails_once_then_retry_after_fix_syncs(
    sync_app: Flask, emulator: EmulatorControl, start_worker: StartWorker
) -> None:
    svc, ana, _ = _salon()
    emulator.add_fault(status=403, reason="forbidden")
    res = book(ana, svc, f.local(f.next_weekday(1), 11))
    start_worker()
    wait_until(lambda: _statuses() == {"failed": 1}, what="sync failed")
    job = stored(CalendarSyncJob, stored(Reservation, res.id).sync_job_id)
    assert job.status == "failed"
    assert job.attempts == 1
    assert "forbidden" in (job.last_error or "")

    emulator.clear_faults()
    sync_status.retry_job(job.id)
    wait_until(_all_synced(1), what="synced after retry")
    assert len(emulator.events()) == 1


def test_worker_killed_mid_call_is_recovered_with_exactly_one_event(
    sync_app: Flask, emulator: EmulatorControl, start_worker: StartWorker
) -> None:
    svc, ana, _ = _salon()
    emulator.add_fault(latency_ms=3000, count=1, methods=["insert"])
    res = book(ana, svc, f.local(f.next_weekday(1), 12))
    first = start_worker()
    job_id = _wait_until_a_worker_holds(res)
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    db.session.rollback()
    assert stored(CalendarSyncJob, job_id).status == "processing"

    start_worker()
    wait_until(_all_synced(1), timeout=60, what="synced by the second worker")
    time.sleep(3.5)  # the killed call's request completes inside the emulator meanwhile
    assert [e["id"] for e in emulator.events()] == [event_id_for(res.uuid)]


def test_sigterm_lets_the_running_job_finish_then_exits_cleanly(
    sync_app: Flask, emulator: EmulatorControl, start_worker: StartWorker
) -> None:
    svc, ana, _ = _salon()
    emulator.add_fault(latency_ms=1500, count=1, methods=["insert"])
    res = book(ana, svc, f.local(f.next_weekday(1), 12))
    worker = start_worker()
    job_id = _wait_until_a_worker_holds(res)
    assert worker.terminate(timeout=30) == 0, worker.log()
    log = worker.log()
    assert '"worker starting"' in log
    assert '"secret_key": "***"' in log
    assert "worker-test-secret" not in log, "secrets are never logged"
    db.session.rollback()
    assert stored(CalendarSyncJob, job_id).status == "succeeded"
    assert len(emulator.events()) == 1


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Start/stop a redis-server of our own on a free port (so we can stop it)."""
    server = shutil.which("redis-server")
    assert server, "redis-server must be installed"
    port = free_port()
    running: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [
                server,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        running.append(process)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        return process

    start.port = port  # type: ignore[attr-defined]
    yield start
    for process in running:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def test_bookings_during_a_redis_outage_sync_when_redis_returns(
    sync_app: Flask,
    config: Config,
    emulator: EmulatorControl,
    start_worker: StartWorker,
    private_redis: Callable[[], subprocess.Popen[bytes]],
) -> None:
    redis_url = f"redis://127.0.0.1:{private_redis.port}/0"  # type: ignore[attr-defined]
    app = create_app(config.replace(redis_url=redis_url))
    with app.app_context():
        svc, ana, _ = _salon()
        redis_process = private_redis()
        start_worker(PELUBOT_REDIS_URL=redis_url)
        redis_process.terminate()
        redis_process.wait(timeout=10)

        day = f.next_weekday(4)
        made = [book(ana, svc, f.local(day, 10 + h)) for h in range(5)]
        db.session.rollback()
        assert _statuses() == {"pending": 5}
        assert all(job.status == "pending" for job in db.session.scalars(select(CalendarSyncJob)))

        private_redis()  # Redis is back; nobody touches anything
        wait_until(_all_synced(5), timeout=60, what="synced after Redis returned")
        assert len(emulator.events()) == len(made)
        db.session.remove()
        db.engine.dispose()


def test_two_workers_process_200_reservations_once_each(
    sync_app: Flask, emulator: EmulatorControl, start_worker: StartWorker
) -> None:
    svc = f.service(name="Corte", duration_min=15)
    stylists = [f.stylist([svc], calendar_id=f"s{i}@calendar.test") for i in range(4)]
    db.session.commit()
    day = f.next_weekday(1)
    for i in range(200):
        stylist = stylists[i % 4]
        book(stylist, svc, f.local(day, 8) + f.timedelta(minutes=15 * (i // 4)))
    workers = [start_worker(), start_worker()]
    wait_until(_all_synced(200), timeout=120, what="200 reservations synced")

    jobs = db.session.scalars(select(CalendarSyncJob)).all()
    assert len(jobs) == 200
    assert {job.status for job in jobs} == {"succeeded"}
    assert {job.attempts for job in jobs} == {1}, "each row processed once"
    events = emulator.events()
    assert len(events) == 200
    assert len({e["id"] for e in events}) == 200
    stats = emulator.stats()["by_method_status"]
    assert stats["insert"] == {"200": 200}, "no duplicate insert reached Google"
    # Both workers took part, and together they synced each row exactly once.
    synced_by = [worker.log().count('"msg": "reservation synced"') for worker in workers]
    assert all(count > 0 for count in synced_by), synced_by
    assert sum(synced_by) == 200


def test_a_foreign_event_blocks_slots_after_one_pull_and_frees_them_when_deleted(
    sync_app: Flask, emulator: EmulatorControl, start_worker: StartWorker
) -> None:
    from pelubot_web.gcal import CalendarGateway, build_calendar_service
    from pelubot_web.models import ExternalBusy
    from pelubot_web.services.accounts import create_api_key

    salon = f.Salon(min_notice_min=0)
    salon.ana.calendar_id = "ana@calendar.test"
    db.session.commit()
    headers = {"X-API-Key": create_api_key("chatbot", ["booking"]).secret}
    day = f.next_weekday(2)
    url = f"/api/v1/slots?service_id={salon.cut.id}&date={day}&professional_id={salon.ana.id}"
    client = sync_app.test_client()

    def starts() -> set[str]:
        items = client.get(url, headers=headers).get_json()["items"]
        return {item["start"][11:16] for item in items}

    assert {"11:00", "11:30"} <= starts()
    gateway = CalendarGateway(
        build_calendar_service(
            "emulator", credentials_file=None, emulator_url=emulator.base_url, timeout=5
        )
    )
    gateway.upsert_event(
        "ana@calendar.test",
        "dentista0001",
        {
            "id": "dentista0001",
            "summary": "Dentista",
            "start": {"dateTime": f.local(day, 11).isoformat()},
            "end": {"dateTime": f.local(day, 12).isoformat()},
        },
    )
    start_worker()
    wait_until(
        lambda: db.session.scalar(select(func.count()).select_from(ExternalBusy)) == 1,
        what="busy block imported",
    )
    blocked = starts()
    assert not {"11:00", "11:15", "11:30", "11:45", "10:45"} & blocked
    assert "12:00" in blocked
    assert "10:30" in blocked

    gateway.delete_event("ana@calendar.test", "dentista0001")
    wait_until(
        lambda: db.session.scalar(select(func.count()).select_from(ExternalBusy)) == 0,
        what="busy block removed",
    )
    assert {"11:00", "11:30"} <= starts()
