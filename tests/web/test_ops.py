"""Ops dashboard: counters, filters, pagination, job page and retries."""

from __future__ import annotations

import json
from datetime import timedelta

from flask.testing import FlaskClient

from pelubot_web.extensions import db
from pelubot_web.models import CalendarSyncJob
from pelubot_web.models.types import utcnow
from tests.factories import stored
from tests.web.conftest import Salon, book, fresh, hx_get, hx_post, login, post


def _job(salon: Salon, hour: int, status: str, **fields: object) -> CalendarSyncJob:
    reservation = book(salon, salon.lucia if hour % 2 == 0 else salon.carmen, hour)
    job = CalendarSyncJob(
        reservation_id=reservation.id,
        target_version=1,
        status=status,
        attempts=fields.pop("attempts", 0),
        max_attempts=8,
        changed_at=utcnow() - timedelta(minutes=5),
        **fields,
    )
    db.session.add(job)
    db.session.commit()
    return job


def test_dashboard_shows_counters_heartbeat_and_jobs(client: FlaskClient, salon: Salon) -> None:
    failed = _job(salon, 10, "failed", attempts=8, last_error="HttpError 403: forbidden")
    _job(salon, 11, "pending")
    _job(salon, 12, "succeeded")
    login(client, "ops@salon.test")
    html = client.get("/admin/calendar-jobs/").get_data(as_text=True)
    assert 'data-status="failed" class="counter' not in html  # sanity on markup below
    assert '<div class="counter alert" data-status="failed">\n      <b>1</b>' in html
    assert '<div class="counter" data-status="pending">\n      <b>1</b>' in html
    assert "5 min" in html  # oldest pending age
    assert 'data-worker="down"' in html
    assert "No hay ningún worker" in html
    assert f'id="job-{failed.id}"' in html
    assert "HttpError 403: forbidden" in html
    assert "8/8" in html
    assert 'hx-trigger="every 5s"' in html


def test_poll_returns_the_live_fragment_with_the_same_filters(
    client: FlaskClient, salon: Salon
) -> None:
    failed = _job(salon, 10, "failed", last_error="boom")
    ok = _job(salon, 12, "succeeded")
    login(client, "ops@salon.test")
    response = hx_get(client, "/admin/calendar-jobs/?status=failed")
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="jobs-live"')
    assert "<html" not in html
    assert 'hx-get="/admin/calendar-jobs/?status=failed&amp;page=1"' in html
    assert f'id="job-{failed.id}"' in html
    assert f'id="job-{ok.id}"' not in html


def test_filters_by_stylist_and_date_and_paginates(client: FlaskClient, salon: Salon) -> None:
    for hour in range(10, 14):
        _job(salon, hour, "succeeded")
    login(client, "ops@salon.test")
    html = client.get(f"/admin/calendar-jobs/?stylist={salon.lucia.id}").get_data(as_text=True)
    assert html.count('<tr id="job-') == 2
    html = client.get("/admin/calendar-jobs/?date=2001-01-01").get_data(as_text=True)
    assert html.count('<tr id="job-') == 0
    html = client.get(f"/admin/calendar-jobs/?date={salon.day}").get_data(as_text=True)
    assert html.count('<tr id="job-') == 4
    for hour in range(14, 20):
        for stylist in (salon.lucia, salon.carmen):
            reservation = book(salon, stylist, hour)
            db.session.add(
                CalendarSyncJob(reservation_id=reservation.id, target_version=1, status="pending")
            )
    db.session.commit()
    first = client.get("/admin/calendar-jobs/").get_data(as_text=True)
    assert first.count('<tr id="job-') == 10 + 6
    assert "Página 1 de 1" not in first
    html = client.get("/admin/calendar-jobs/?status=pending&page=1").get_data(as_text=True)
    assert html.count('<tr id="job-') == 12


def test_job_page_shows_attempts_timestamps_and_error(client: FlaskClient, salon: Salon) -> None:
    job = _job(salon, 10, "failed", attempts=3, last_error="HttpError 500\ntraceback line")
    login(client, "admin@salon.test")
    html = client.get(f"/admin/calendar-jobs/{job.id}").get_data(as_text=True)
    assert f"Trabajo {job.id}" in html
    assert "3 / 8" in html
    assert "HttpError 500\ntraceback line" in html
    assert job.reservation.uuid in html
    assert client.get("/admin/calendar-jobs/999999").status_code == 404


def test_retry_one_job_with_htmx(client: FlaskClient, salon: Salon, redis_conn: object) -> None:
    job = _job(salon, 10, "failed", attempts=8, last_error="HttpError 403")
    login(client, "ops@salon.test")
    response = hx_post(client, f"/admin/calendar-jobs/{job.id}/retry")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<tr id="job-{job.id}"')
    assert "devuelto a la cola" in json.loads(response.headers["HX-Trigger"])["toast"]["message"]
    fresh()
    retried = stored(CalendarSyncJob, job.id)
    assert retried.status in ("pending", "queued")
    assert retried.attempts == 0


def test_retry_all_failed_asks_for_confirmation(client: FlaskClient, salon: Salon) -> None:
    jobs = [_job(salon, hour, "failed", attempts=8, last_error="x") for hour in (10, 11)]
    login(client, "ops@salon.test")
    page = client.get("/admin/calendar-jobs/retry-failed").get_data(as_text=True)
    assert "Se devolverán a la cola 2 trabajos fallidos." in page
    fresh()
    assert {stored(CalendarSyncJob, j.id).status for j in jobs} == {"failed"}
    response = post(client, "/admin/calendar-jobs/retry-failed")
    assert response.status_code == 303
    fresh()
    assert {stored(CalendarSyncJob, j.id).status for j in jobs} <= {"pending", "queued"}
    response = hx_post(client, "/admin/calendar-jobs/retry-failed")
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip().startswith('<div id="jobs-live"')
