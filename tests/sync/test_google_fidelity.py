"""Calendar sync against a Google-strict emulator: failures are visible, ids stay usable,
quotas are respected. Real worker processes where the worker is what is under test."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from pelubot_web.extensions import db
from pelubot_web.gcal import event_id_for
from pelubot_web.gcal.emulator import EmulatorControl
from pelubot_web.models import CalendarPullState, CalendarSyncJob, Reservation, Service, Stylist
from pelubot_web.models.types import utcnow
from pelubot_web.services import accounts
from pelubot_web.services.calendar_health import stylist_calendar_health
from pelubot_web.services.sync_status import record_worker_heartbeat, retry_reservation_sync
from pelubot_web.tasks.calendar import run_sync_job
from pelubot_web.tasks.runtime import calendar_gateway, worker_identity
from tests import factories as f
from tests.sync.changes import book, cancel, reschedule
from tests.sync.conftest import WorkerProcess, wait_until
from tests.web.conftest import login

StartWorker = Callable[..., WorkerProcess]
ANA_CAL = "ana@calendar.test"


def _reservation(reservation_id: int) -> Reservation:
    found = db.session.get(Reservation, reservation_id)
    assert found is not None
    return found


def _synced(reservation_id: int) -> Callable[[], bool]:
    return lambda: _reservation(reservation_id).sync_status == "synced"


def _ana() -> tuple[Service, Stylist]:
    """A stylist ("ana") whose calendar is shared with the service account."""
    svc = f.service()
    ana = f.stylist([svc], slug="ana", name="Ana", calendar_id=ANA_CAL)
    db.session.commit()
    return svc, ana


def _metric(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} not in the scrape"
    return float(match.group(1))


@pytest.mark.slow
def test_an_unshared_calendar_is_a_visible_failure_on_every_surface(
    sync_app: Flask,
    emulator: EmulatorControl,
    start_worker: StartWorker,
    client: FlaskClient,
) -> None:
    svc, ana = _ana()
    accounts.create_user("ops@salon.test", "a-long-ops-password", "ops")
    start_worker()
    res = book(ana, svc, f.local(f.next_weekday(1), 10))
    wait_until(_synced(res.id), what="first sync")

    emulator.unregister_calendar(ANA_CAL)  # the stylist stopped sharing it
    cancel(res.id)

    wait_until(lambda: _reservation(res.id).sync_status == "failed", what="visible failure")
    assert "not found or not shared" in (_reservation(res.id).last_sync_error or "")
    assert [e["id"] for e in emulator.events(ANA_CAL)] == [event_id_for(res.uuid)], "orphaned"
    wait_until(
        lambda: bool(db.session.scalar(select(CalendarPullState.last_error))),
        what="the busy-time import fails too",
    )
    (health,) = stylist_calendar_health(problems_only=True)
    assert (health.slug, health.failed_pushes, health.pull_failing) == ("ana", 1, True)

    login(client, "ops@salon.test", "a-long-ops-password")
    page = client.get("/admin/calendar-jobs/").get_data(as_text=True)
    assert 'data-stylist="ana"' in page
    assert "not found or not shared" in page
    scrape = client.get("/metrics").get_data(as_text=True)
    assert _metric(scrape, "pelubot_calendar_pull_failing", '{stylist="ana"}') == 1.0
    assert _metric(scrape, "pelubot_calendar_push_failed_rows", '{stylist="ana"}') == 1.0
    ready = client.get("/ready/sync")
    assert ready.status_code == 503
    assert "pulls" in ready.get_json()["failing"]
    assert ready.get_json()["checks"]["pulls"]["failing_stylists"] == ["ana"]


@pytest.mark.slow
def test_a_purged_event_id_moves_to_a_new_generation_and_leaves_one_event(
    sync_app: Flask, emulator: EmulatorControl, start_worker: StartWorker
) -> None:
    svc, ana = _ana()
    start_worker()
    day = f.next_weekday(2)
    res = book(ana, svc, f.local(day, 10))
    wait_until(_synced(res.id), what="first sync")
    # The stylist deletes the event in Google; later Google purges it for good.
    calendar_gateway().delete_event(ANA_CAL, event_id_for(res.uuid))
    assert emulator.purge_cancelled() == 1

    reschedule(res.id, start=f.local(day, 12))

    wait_until(lambda: _reservation(res.id).synced_version == 2, what="resynced")
    assert _reservation(res.id).sync_status == "synced"
    new_id = event_id_for(res.uuid) + "g1"
    assert _reservation(res.id).gcal_event_id == new_id
    (event,) = emulator.events(ANA_CAL)
    assert event["id"] == new_id
    assert str(event["start"]["dateTime"]).startswith(f"{day}T12:00:00")


def _failing_first_sync(emulator: EmulatorControl, **fault: object) -> CalendarSyncJob:
    svc, ana = _ana()
    res = book(ana, svc, f.local(f.next_weekday(3), 10))
    emulator.add_fault(methods=["insert"], count=1, **fault)
    outcome = run_sync_job(_reservation(res.id).sync_job_id or 0, worker_identity())
    assert outcome.status == "retry", outcome
    db.session.rollback()
    job = db.session.get(CalendarSyncJob, _reservation(res.id).sync_job_id)
    assert job is not None
    return job


def test_a_quota_error_backs_off_long_without_using_up_attempts(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    before = utcnow()

    job = _failing_first_sync(emulator, status=403, reason="quotaExceeded")

    assert job.attempts == 0, "a usage-limit wait is not a failed attempt"
    assert job.available_at >= before + timedelta(seconds=899)
    assert job.status == "pending"


def test_retry_after_is_honoured_even_above_the_backoff_cap(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    before = utcnow()

    job = _failing_first_sync(emulator, status=503, retry_after=120)

    assert job.attempts == 1
    assert job.available_at >= before + timedelta(seconds=119)


def test_flask_sync_status_names_the_stylist_whose_calendar_is_not_shared(
    sync_app: Flask, emulator: EmulatorControl, runner: FlaskCliRunner
) -> None:
    svc, ana = _ana()
    emulator.unregister_calendar(ANA_CAL)
    res = book(ana, svc, f.local(f.next_weekday(3), 10))
    assert run_sync_job(_reservation(res.id).sync_job_id or 0, worker_identity()).status == (
        "failed"
    )

    result = runner.invoke(args=["sync", "status"])

    assert result.exit_code == 0, result.output
    assert "Stylist calendars with problems:" in result.output
    assert "ana: 1 failed sync(s): 404 calendarNotFound: calendar ana@calendar.test" in (
        result.output
    )


def test_retrying_a_failed_sync_reuses_its_row_so_no_failed_row_is_left_behind(
    sync_app: Flask, emulator: EmulatorControl
) -> None:
    svc, ana = _ana()
    emulator.unregister_calendar(ANA_CAL)
    res = book(ana, svc, f.local(f.next_weekday(3), 10))
    failed_id = _reservation(res.id).sync_job_id
    assert run_sync_job(failed_id or 0, worker_identity()).status == "failed"
    emulator.register_calendar(ANA_CAL)  # shared again

    retried = retry_reservation_sync(res.uuid)
    assert run_sync_job(retried.id, worker_identity()).status == "succeeded"

    db.session.rollback()
    assert retried.id == failed_id
    failed_rows = db.session.scalar(
        select(func.count()).select_from(CalendarSyncJob).where(CalendarSyncJob.status == "failed")
    )
    assert failed_rows == 0
    assert _reservation(res.id).sync_status == "synced"


@pytest.mark.slow
def test_a_worker_serves_its_own_metrics_with_real_counts_after_syncs(
    sync_app: Flask, emulator: EmulatorControl, start_worker: StartWorker
) -> None:
    svc, ana = _ana()
    worker = start_worker(PELUBOT_WORKER_METRICS_PORT="0", PELUBOT_WORKER_METRICS_HOST="127.0.0.1")
    first = book(ana, svc, f.local(f.next_weekday(1), 10))
    second = book(ana, svc, f.local(f.next_weekday(1), 12))
    wait_until(lambda: _synced(first.id)() and _synced(second.id)(), what="both synced")
    port = re.search(r'"metrics_port": (\d+)', worker.log())
    assert port, worker.log()[-2000:]

    url = f"http://127.0.0.1:{port.group(1)}/metrics"

    def scrape_once() -> str:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())

    # The first busy-time import runs on the dispatcher's schedule: wait for it too.
    wait_until(lambda: 'pelubot_calendar_pulls_total{outcome="full"}' in scrape_once())
    scrape = scrape_once()

    assert _metric(scrape, "pelubot_sync_outcomes_total", '{outcome="succeeded"}') >= 2
    insert_calls = '{method="insert"}'
    assert _metric(scrape, "pelubot_google_call_duration_seconds_count", insert_calls) >= 2
    assert _metric(scrape, "pelubot_sync_queue_wait_seconds_count") >= 2
    assert _metric(scrape, "pelubot_worker_last_cycle_timestamp_seconds") > 0
    assert _metric(scrape, "pelubot_calendar_pulls_total", '{outcome="full"}') >= 1


def test_web_metrics_list_each_worker_with_its_last_heartbeat(
    sync_app: Flask, client: FlaskClient, redis_conn: object
) -> None:
    record_worker_heartbeat(redis_conn, "pelubot-host-a:12")  # type: ignore[arg-type]

    scrape = client.get("/metrics").get_data(as_text=True)

    assert _metric(scrape, "pelubot_worker_last_seen_seconds", '{worker="pelubot-host-a:12"}') < 60
