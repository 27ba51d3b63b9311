"""The sync part of the chatbot API and the ops endpoints over the outbox."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue

from pelubot_web.extensions import db
from pelubot_web.gcal.emulator import EmulatorControl
from pelubot_web.models import Reservation
from pelubot_web.services.accounts import create_api_key
from pelubot_web.tasks.calendar import run_sync_job
from pelubot_web.tasks.runtime import worker_identity
from tests import factories as f
from tests.factories import sync_job_id
from tests.sync.changes import book, fail_first_sync


def _keys() -> tuple[dict[str, str], dict[str, str]]:
    booking = create_api_key("chatbot", ["booking"]).secret
    ops = create_api_key("ops-console", ["ops"]).secret
    return {"X-API-Key": booking}, {"X-API-Key": ops}


def _booked() -> Reservation:
    svc = f.service()
    ana = f.stylist([svc], calendar_id="ana@calendar.test")
    db.session.commit()
    return book(ana, svc, f.local(f.next_weekday(1), 10))


def test_sync_state_follows_the_job_from_pending_to_failed_to_synced(
    sync_app: Flask, client: FlaskClient, emulator: EmulatorControl, redis_conn: Redis
) -> None:
    booking_key, _ = _keys()
    res = _booked()
    url = f"/api/v1/reservations/{res.uuid}/sync"
    body = client.get(url, headers=booking_key).get_json()
    assert body["status"] == "pending"
    assert body["job_id"] == res.sync_job_id
    assert body["attempts"] == 0

    fail_first_sync(res, emulator)
    body = client.get(url, headers=booking_key).get_json()
    assert body["status"] == "failed"
    assert body["attempts"] == 1
    assert "forbidden" in body["last_error"]

    retried = client.post(f"{url}/retry", headers=booking_key)
    assert retried.status_code == 202
    assert retried.get_json()["status"] == "pending"
    assert (
        f"calsync-{res.sync_job_id}-v1"
        in Queue("calendar-sync-test", connection=redis_conn).job_ids
    )
    run_sync_job(sync_job_id(res), worker_identity())
    body = client.get(url, headers=booking_key).get_json()
    assert body["status"] == "synced"
    assert body["last_error"] is None
    assert body["last_synced_at"].endswith(("+01:00", "+02:00"))


def test_retry_of_an_unknown_reservation_is_404(sync_app: Flask, client: FlaskClient) -> None:
    booking_key, _ = _keys()
    response = client.post(f"/api/v1/reservations/{uuid.uuid4()}/sync/retry", headers=booking_key)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def test_ops_endpoints_need_the_ops_scope(sync_app: Flask, client: FlaskClient) -> None:
    booking_key, ops_key = _keys()
    assert client.get("/api/v1/admin/calendar-jobs").status_code == 401
    assert client.get("/api/v1/admin/calendar-jobs", headers=booking_key).status_code == 403
    assert client.get("/api/v1/admin/calendar-jobs", headers=ops_key).status_code == 200
    assert (
        client.post("/api/v1/admin/calendar-jobs/1/retry", headers=booking_key).status_code == 403
    )


def test_ops_list_filters_paginates_and_validates(
    sync_app: Flask, client: FlaskClient, emulator: EmulatorControl
) -> None:
    _, ops_key = _keys()
    res = _booked()
    fail_first_sync(res, emulator)
    other = book(res.stylist, res.service, f.local(f.next_weekday(2), 12))

    page = client.get("/api/v1/admin/calendar-jobs?status=failed", headers=ops_key).get_json()
    assert page["total"] == 1
    assert page["limit"] == 20
    assert page["offset"] == 0
    (job,) = page["items"]
    assert job["reservation_id"] == res.uuid
    assert job["attempts"] == 1
    assert "forbidden" in job["last_error"]

    page = client.get("/api/v1/admin/calendar-jobs?limit=1", headers=ops_key).get_json()
    assert page["total"] == 2
    assert [j["reservation_id"] for j in page["items"]] == [other.uuid]
    day = f.next_weekday(2).isoformat()
    page = client.get(f"/api/v1/admin/calendar-jobs?date={day}", headers=ops_key).get_json()
    assert [j["reservation_id"] for j in page["items"]] == [other.uuid]

    for bad in ("status=exploded", "limit=101", "offset=-1", "date=mañana"):
        response = client.get(f"/api/v1/admin/calendar-jobs?{bad}", headers=ops_key)
        assert response.status_code == 422, bad
        assert response.get_json()["errors"], bad


def test_ops_retry_requeues_a_failed_job(
    sync_app: Flask, client: FlaskClient, emulator: EmulatorControl
) -> None:
    _, ops_key = _keys()
    res = _booked()
    fail_first_sync(res, emulator)
    response = client.post(f"/api/v1/admin/calendar-jobs/{res.sync_job_id}/retry", headers=ops_key)
    assert response.status_code == 202
    assert response.get_json()["status"] == "queued"
    assert response.get_json()["attempts"] == 0
    for unknown in (987654, 2**31, 2**64):
        missing = client.post(f"/api/v1/admin/calendar-jobs/{unknown}/retry", headers=ops_key)
        assert missing.status_code == 404, unknown
