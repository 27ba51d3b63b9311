"""The app factory only wires things; /health and /ready report honestly."""

from __future__ import annotations

import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from redis import Redis

from pelubot_web import create_app
from pelubot_web.config import Config
from pelubot_web.extensions import db
from pelubot_web.metrics import serve_worker_metrics
from pelubot_web.models import Notification
from pelubot_web.models.notify import Channel, NotificationKind, NotificationStatus
from pelubot_web.models.types import utcnow
from pelubot_web.services.sync_status import record_worker_heartbeat
from tests import factories as f
from tests.conftest import TEST_REDIS_URL, free_port, make_config
from tests.factories import stored


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never answers (a hung dependency)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_factory_does_no_io_even_when_everything_is_unreachable() -> None:
    port = free_port()
    app = create_app(
        make_config(
            f"postgresql://nobody@127.0.0.1:{port}/nothing",
            redis_url=f"redis://127.0.0.1:{port}/0",
        )
    )
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def _worker_reported(redis_url: str = TEST_REDIS_URL, age_s: float = 0.0) -> None:
    record_worker_heartbeat(Redis.from_url(redis_url), "test-worker", time.time() - age_s)


def test_ready_is_200_when_database_redis_and_a_worker_answer(
    client: FlaskClient, redis_conn: Redis
) -> None:
    _worker_reported()
    response = client.get("/ready")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["worker"]["ok"] is True


def test_ready_stays_200_but_degraded_naming_the_worker_when_none_reports(
    client: FlaskClient, redis_conn: Redis
) -> None:
    response = client.get("/ready")
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["failing"] == ["worker"]
    assert "no worker" in body["checks"]["worker"]["error"]

    _worker_reported(age_s=600)
    body = client.get("/ready").get_json()
    assert body["failing"] == ["worker"]
    assert "600 s ago" in body["checks"]["worker"]["error"]


def test_ready_stays_200_but_degraded_naming_redis_when_redis_is_down(
    migrated_database_url: str,
) -> None:
    app = create_app(
        make_config(migrated_database_url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    )
    response = app.test_client().get("/ready")
    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert "redis" in body["failing"]
    assert "database" not in body["failing"]
    assert "Connection" in body["checks"]["redis"]["error"]


def test_ready_is_503_naming_the_database_when_it_cannot_be_reached(redis_conn: Redis) -> None:
    _worker_reported()
    port = free_port()
    app = create_app(make_config(f"postgresql://nobody@127.0.0.1:{port}/nothing"))
    response = app.test_client().get("/ready")
    body = response.get_json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["failing"] == ["database"]
    assert body["checks"]["database"]["error"]


def test_ready_in_prod_names_the_failing_check_but_not_hosts_ports_or_driver_text(
    redis_conn: Redis,
) -> None:
    port = free_port()
    app = create_app(
        make_config(
            f"postgresql://nobody@127.0.0.1:{port}/nothing",
            env="prod",
            api_key="prod-api-key-0123456789abcdefghijklmnop",
            secret_key="prod-secret-key-9876543210zyxwvutsrqponm",
            redis_url=f"redis://127.0.0.1:{free_port()}/0",
        )
    )
    response = app.test_client().get("/ready")
    body = response.get_json()
    assert response.status_code == 503
    assert set(body["failing"]) >= {"database", "redis"}
    text = response.get_data(as_text=True)
    for leak in ("127.0.0.1", str(port), "nobody", "psycopg", "Connection", "SELECT"):
        assert leak not in text


def test_ready_sync_is_503_without_a_worker_and_200_with_one(
    client: FlaskClient, redis_conn: Redis
) -> None:
    response = client.get("/ready/sync")
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["worker"]

    _worker_reported()
    response = client.get("/ready/sync")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["checks"]["pulls"] == {"ok": True, "failing_stylists": []}


def test_ready_bounds_a_hung_redis_with_a_timeout(
    migrated_database_url: str, silent_server: int
) -> None:
    app = create_app(
        make_config(migrated_database_url, redis_url=f"redis://127.0.0.1:{silent_server}/0")
    )
    response = app.test_client().get("/ready")
    body = response.get_json()
    assert response.status_code == 200
    assert "redis" in body["failing"]
    assert "database" not in body["failing"]
    assert "time" in body["checks"]["redis"]["error"].lower()


def test_every_response_carries_a_request_id(client: FlaskClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    generated = client.get("/health").headers["X-Request-ID"]
    assert len(generated) == 32


def test_metrics_are_exposed_with_queue_gauges(client: FlaskClient, redis_conn: Redis) -> None:
    client.get("/health")
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "flask_http_request_total" in text
    assert "pelubot_reservation_actions_total" in text
    assert 'pelubot_outbox_rows{status="pending"} 0.0' in text
    assert "pelubot_outbox_oldest_pending_age_seconds 0.0" in text
    assert "pelubot_worker_heartbeat_age_seconds -1.0" in text


def test_metrics_refuse_clients_outside_the_allowed_networks(client: FlaskClient) -> None:
    # test env default: loopback and private networks.
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    public = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert public.status_code == 403
    assert "flask_http_request" not in public.get_data(as_text=True)


def test_metrics_answer_nobody_in_prod_until_configured(migrated_database_url: str) -> None:
    prod = {
        "env": "prod",
        "api_key": "prod-api-key-0123456789-abcdefghijkl",
        "secret_key": "prod-secret-key-0123456789-abcdefghij",
    }
    app = create_app(make_config(migrated_database_url, **prod))
    assert app.test_client().get("/metrics").status_code == 403  # not even loopback


def test_metrics_token_admits_any_network(migrated_database_url: str) -> None:
    token = "metrics-token-0123456789-abcdefghijk"
    app = create_app(
        make_config(migrated_database_url, metrics_allowed_networks=(), metrics_token=token)
    )
    client = app.test_client()
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    missing = client.get("/metrics", environ_base=outside)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", environ_base=outside, headers=wrong).status_code == 401
    good = {"Authorization": f"Bearer {token}"}
    with app.app_context():
        assert client.get("/metrics", environ_base=outside, headers=good).status_code == 200
        db.session.remove()


def test_each_request_is_logged_as_one_line_with_its_id(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="pelubot.access")
    client.get("/api/v1/services", headers={"X-Request-ID": "req-42"})
    (record,) = [r for r in caplog.records if r.name == "pelubot.access"]
    assert record.path == "/api/v1/services"  # type: ignore[attr-defined]
    assert record.status == 401  # type: ignore[attr-defined]
    from pelubot_web.observability import JsonFormatter, request_id_var

    token = request_id_var.set("req-42")
    try:
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    assert '"request_id": "req-42"' in line
    assert '"status": 401' in line


def test_behind_a_trusted_proxy_the_client_ip_comes_from_x_forwarded_for(
    migrated_database_url: str,
) -> None:
    from flask import request

    app = create_app(make_config(migrated_database_url, trusted_proxies=1))
    app.add_url_rule("/_ip", "ip", lambda: request.remote_addr or "")
    seen = app.test_client().get("/_ip", headers={"X-Forwarded-For": "203.0.113.9"})
    assert seen.get_data(as_text=True) == "203.0.113.9"
    plain = create_app(make_config(migrated_database_url))
    plain.add_url_rule("/_ip", "ip", lambda: request.remote_addr or "")
    unseen = plain.test_client().get("/_ip", headers={"X-Forwarded-For": "203.0.113.9"})
    assert unseen.get_data(as_text=True) == "127.0.0.1"


def test_ready_checks_google_credentials_locally_without_calling_google(
    migrated_database_url: str, redis_conn: Redis, tmp_path: Path
) -> None:
    _worker_reported()
    missing = tmp_path / "nope.json"
    app = create_app(
        make_config(
            migrated_database_url, gcal_backend="google", gcal_credentials_file=str(missing)
        )
    )
    body = app.test_client().get("/ready").get_json()
    assert body["failing"] == ["calendar_credentials"]
    assert "cannot read" in body["checks"]["calendar_credentials"]["error"]

    good = tmp_path / "sa.json"
    good.write_text('{"client_email": "pelubot@proj.iam.gserviceaccount.com", "private_key": "k"}')
    app = create_app(
        make_config(migrated_database_url, gcal_backend="google", gcal_credentials_file=str(good))
    )
    response = app.test_client().get("/ready")
    assert response.status_code == 200, response.get_json()
    check = response.get_json()["checks"]["calendar_credentials"]
    assert check["service_account"] == "pelubot@proj.iam.gserviceaccount.com"


def _scrape(port: int, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@contextmanager
def worker_metrics(config: Config) -> Iterator[int]:
    server = serve_worker_metrics(config, "127.0.0.1", 0)
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


def test_a_workers_metrics_follow_the_same_access_rule(migrated_database_url: str) -> None:
    token = "metrics-token-0123456789-abcdefghijk"
    # Nobody by network (this test scrapes from loopback): only the token opens it.
    locked = make_config(migrated_database_url, metrics_allowed_networks=(), metrics_token=token)
    with worker_metrics(locked) as port:
        status, body = _scrape(port)
        assert (status, "pelubot_" in body) == (401, False)
        assert _scrape(port, {"Authorization": "Bearer nope"})[0] == 401
        status, body = _scrape(port, {"Authorization": f"Bearer {token}"})
        assert status == 200
        assert "pelubot_sync_outcomes_total" in body

    closed = make_config(migrated_database_url, metrics_allowed_networks=())
    with worker_metrics(closed) as port:
        assert _scrape(port)[0] == 403
    loopback = make_config(migrated_database_url, metrics_allowed_networks=("127.0.0.0/8",))
    with worker_metrics(loopback) as port:
        assert _scrape(port)[0] == 200


def test_an_email_waiting_past_its_due_time_fails_ready_sync_and_shows_in_metrics(
    client: FlaskClient, redis_conn: Redis
) -> None:
    salon = f.Salon()
    booked = f.reservation(salon.ana, salon.cut, f.local(f.next_weekday(0), 10))
    due = utcnow() - timedelta(minutes=20)  # the default threshold is 15 minutes
    db.session.add(
        Notification(
            reservation_id=booked.id,
            kind=NotificationKind.CONFIRMATION,
            event_key="v1",
            channel=Channel.EMAIL,
            target="customer",
            due_at=due,
            available_at=due,
        )
    )
    db.session.commit()
    _worker_reported()

    response = client.get("/ready/sync")
    body = response.get_json()
    assert response.status_code == 503
    assert body["failing"] == ["notifications"]
    assert body["checks"]["notifications"]["oldest_due_age_s"] >= 1200
    scrape = client.get("/metrics").get_data(as_text=True)
    assert 'pelubot_notification_rows{status="pending"} 1.0' in scrape
    age = re.search(r"^pelubot_notification_oldest_due_age_seconds (\S+)$", scrape, re.M)
    assert age is not None
    assert float(age.group(1)) >= 1200

    stored(Notification, 1).status = NotificationStatus.SENT
    db.session.commit()
    assert client.get("/ready/sync").status_code == 200
