"""API keys and scopes, problem+json for every HTTP error, shared rate limits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pelubot_web import create_app
from pelubot_web.config import Config
from pelubot_web.extensions import db
from pelubot_web.services.accounts import create_api_key
from tests import factories as f
from tests.api.conftest import booking_body
from tests.conftest import free_port, make_config

BOOTSTRAP = "bootstrap-key-for-tests-0123456789abcdef"


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert response.status_code == status, response.data
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["type"]
    assert body["title"]
    return body  # type: ignore[no-any-return]


def test_missing_or_wrong_key_is_401_and_a_key_without_the_scope_is_403(
    client: FlaskClient, salon: f.Salon
) -> None:
    assert_problem(client.get("/api/v1/services"), 401)
    wrong = assert_problem(client.get("/api/v1/services", headers={"X-API-Key": "pb_nope"}), 401)
    assert "not valid" in wrong["detail"]
    ops_only = create_api_key("ops-tool", ["ops"]).secret
    assert_problem(client.get("/api/v1/services", headers={"X-API-Key": ops_only}), 403)
    booking_key = create_api_key("chatbot", ["booking"]).secret
    assert client.get("/api/v1/services", headers={"X-API-Key": booking_key}).status_code == 200


def test_a_deactivated_key_stops_working(client: FlaskClient, salon: f.Salon) -> None:
    created = create_api_key("old-bot", ["booking"])
    headers = {"X-API-Key": created.secret}
    assert client.get("/api/v1/services", headers=headers).status_code == 200
    created.api_key.active = False
    db.session.commit()
    assert_problem(client.get("/api/v1/services", headers=headers), 401)


def test_bootstrap_key_has_every_scope(migrated_database_url: str) -> None:
    app = create_app(make_config(migrated_database_url, api_key=BOOTSTRAP))
    with app.app_context():
        response = app.test_client().get("/api/v1/services", headers={"X-API-Key": BOOTSTRAP})
        assert response.status_code == 200
        db.session.remove()


def test_local_no_auth_is_honoured_in_dev_only(migrated_database_url: str) -> None:
    dev = create_app(make_config(migrated_database_url, env="dev", allow_local_no_auth=True))
    with dev.app_context():
        client = dev.test_client()
        assert client.get("/api/v1/services").status_code == 200
        # A wrong key is still refused: no-auth means "no key", not "any key".
        assert client.get("/api/v1/services", headers={"X-API-Key": "x"}).status_code == 401
        db.session.remove()
    cfg = Config(**{**make_config(migrated_database_url).__dict__, "allow_local_no_auth": True})
    test_app = create_app(cfg)
    with test_app.app_context():
        assert test_app.test_client().get("/api/v1/services").status_code == 401
        db.session.remove()


def test_local_no_auth_admits_only_loopback_clients(migrated_database_url: str) -> None:
    dev = create_app(make_config(migrated_database_url, env="dev", allow_local_no_auth=True))
    with dev.app_context():
        client = dev.test_client()
        for address in ("127.0.0.1", "::1"):
            local = client.get("/api/v1/services", environ_base={"REMOTE_ADDR": address})
            assert local.status_code == 200, address
        for address in ("192.168.1.20", "10.0.0.5", "203.0.113.9", "::ffff:192.0.2.1"):
            remote = client.get("/api/v1/services", environ_base={"REMOTE_ADDR": address})
            assert_problem(remote, 401)
        db.session.remove()


def test_http_errors_are_problem_json(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str]
) -> None:
    bad_json = client.post(
        "/api/v1/reservations", data="{not json", content_type="application/json", headers=auth
    )
    assert_problem(bad_json, 400)
    form = client.post("/api/v1/reservations", data={"service_id": "1"}, headers=auth)
    assert_problem(form, 415)
    huge = client.post(
        "/api/v1/reservations",
        data='{"notes": "' + "x" * 70_000 + '"}',
        content_type="application/json",
        headers=auth,
    )
    assert_problem(huge, 413)
    assert_problem(client.get("/api/v1/nothing-here", headers=auth), 404)
    assert_problem(client.delete("/api/v1/services", headers=auth), 405)
    missing_query = assert_problem(client.get("/api/v1/slots", headers=auth), 422)
    assert {e["field"] for e in missing_query["errors"]} == {"service_id", "date"}
    naive = client.get(
        "/api/v1/reservations", query_string={"start_from": "2027-03-29T10:00:00"}, headers=auth
    )
    assert assert_problem(naive, 422)["errors"][0]["field"] == "start_from"
    # HTML pages keep their own error handling.
    assert client.get("/no-such-page").content_type.startswith("text/html")


def test_slots_query_errors_name_the_parameter(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    too_many = client.get(
        f"/api/v1/slots?service_id={salon.cut.id}&date={monday}&days=15", headers=auth
    )
    assert assert_problem(too_many, 422)["errors"][0]["field"] == "days"
    unknown = client.get(f"/api/v1/slots?service_id=999&date={monday}", headers=auth)
    assert assert_problem(unknown, 422)["errors"][0]["field"] == "service_id"
    not_offered = client.get(
        f"/api/v1/slots?service_id={salon.color.id}&date={monday}&professional_id={salon.bea.id}",
        headers=auth,
    )
    assert assert_problem(not_offered, 422)["code"] == "service_not_offered"
    ok = client.get(f"/api/v1/slots?service_id={salon.cut.id}&date={monday}&days=14", headers=auth)
    assert ok.status_code == 200


@pytest.fixture
def limited_app(migrated_database_url: str) -> Iterator[Flask]:
    app = create_app(make_config(migrated_database_url, api_rate_limit="3 per 2 seconds"))
    with app.app_context():
        yield app
        db.session.remove()


def test_rate_limit_is_per_key_returns_429_with_retry_after_and_resets(
    limited_app: Flask, redis_conn: object
) -> None:
    client = limited_app.test_client()
    key_a = {"X-API-Key": create_api_key("bot-a", ["booking"]).secret}
    key_b = {"X-API-Key": create_api_key("bot-b", ["booking"]).secret}
    statuses = [client.get("/api/v1/services", headers=key_a).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    limited = client.get("/api/v1/slots", headers=key_a)  # shared across API endpoints
    body = assert_problem(limited, 429)
    assert body["code"] == "too_many_requests"
    assert 1 <= int(limited.headers["Retry-After"]) <= 2
    # Another key has its own budget.
    assert client.get("/api/v1/services", headers=key_b).status_code == 200
    time.sleep(2.1)
    assert client.get("/api/v1/services", headers=key_a).status_code == 200


def test_rate_limit_is_shared_between_processes_through_redis(
    migrated_database_url: str, redis_conn: object
) -> None:
    cfg = make_config(migrated_database_url, api_rate_limit="2 per minute")
    first, second = create_app(cfg), create_app(cfg)  # two "processes"
    with first.app_context():
        key = {"X-API-Key": create_api_key("bot", ["booking"]).secret}
        assert first.test_client().get("/api/v1/services", headers=key).status_code == 200
        db.session.remove()
    with second.app_context():
        client = second.test_client()
        assert client.get("/api/v1/services", headers=key).status_code == 200
        assert client.get("/api/v1/services", headers=key).status_code == 429
        db.session.remove()


def test_unauthenticated_calls_are_limited_per_ip(limited_app: Flask, redis_conn: object) -> None:
    client = limited_app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/services").status_code == 401
    assert client.get("/api/v1/services").status_code == 429


def test_api_keeps_answering_and_booking_when_redis_is_unreachable(
    migrated_database_url: str,
) -> None:
    app = create_app(
        make_config(
            migrated_database_url,
            redis_url=f"redis://127.0.0.1:{free_port()}/0",
            api_rate_limit="5 per minute",
        )
    )
    with app.app_context():
        from tests.conftest import _clean_database

        _clean_database(app)
        salon = f.Salon()
        key = {"X-API-Key": create_api_key("bot", ["booking"]).secret}
        client = app.test_client()
        assert client.get("/api/v1/services", headers=key).status_code == 200
        assert client.get("/api/v1/professionals", headers=key).status_code == 200
        monday = f.next_weekday(0)
        created = client.post(
            "/api/v1/reservations",
            json=booking_body(salon, f.local(monday, 10).isoformat()),
            headers=key,
        )
        assert created.status_code == 201, created.get_json()
        assert created.get_json()["sync"]["status"] == "pending"
        # The limit still holds, from memory.
        statuses = [client.get("/api/v1/services", headers=key).status_code for _ in range(4)]
        assert statuses[-1] == 429
        assert 500 not in statuses
        db.session.remove()
