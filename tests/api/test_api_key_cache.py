"""Stored API keys are cached per process, yet a revocation or a new key applies at once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from pelubot_web.extensions import db
from pelubot_web.models import ApiKey
from pelubot_web.services import accounts
from pelubot_web.services.shared_cache import SharedCache
from tests.conftest import free_port, sql_statements, two_processes

SERVICES = "/api/v1/services"


@contextmanager
def api_key_statements() -> Iterator[list[str]]:
    """The SQL statements sent inside the block that name ``api_keys`` (filled on exit)."""
    named: list[str] = []
    with sql_statements() as seen:
        yield named
    named.extend(statement for statement in seen if "api_keys" in statement)


def last_used_at(key_id: int) -> datetime | None:
    with db.engine.connect() as conn:
        value: datetime | None = conn.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key_id))
    return value


def status(app: Flask, secret: str, path: str = SERVICES) -> int:
    """One API call made by ``app``'s process (its own app context and session)."""
    with app.app_context():
        code = app.test_client().get(path, headers={"X-API-Key": secret}).status_code
        db.session.remove()
    return code


def in_process(app: Flask, write: Any, *args: Any) -> Any:
    """Run a service call in ``app``'s process, as the CLI or an admin view would."""
    with app.app_context():
        result = write(*args)
        db.session.remove()
    return result


def test_a_second_call_with_the_same_key_does_not_read_the_api_keys_table(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    with api_key_statements() as first:
        assert client.get(SERVICES, headers=auth).status_code == 200
    assert first  # looked up (and its use recorded)
    with api_key_statements() as second:
        assert client.get(SERVICES, headers=auth).status_code == 200
        assert client.get("/api/v1/professionals", headers=auth).status_code == 200
    assert second == []


def test_a_revoked_key_is_refused_at_once_by_another_process_that_had_it_cached(
    migrated_database_url: str,
) -> None:
    web, admin = two_processes(migrated_database_url)
    secret = in_process(admin, accounts.create_api_key, "bot", ["booking"]).secret
    assert status(web, secret) == 200
    assert status(web, secret) == 200  # now from web's cache
    in_process(admin, accounts.revoke_api_key, "bot")
    assert status(web, secret) == 401


def test_a_key_unknown_when_first_presented_works_as_soon_as_it_is_created(
    migrated_database_url: str,
) -> None:
    web, admin = two_processes(migrated_database_url)
    secret = "pb_created-after-the-chatbot-first-tried-it-0123456789"
    assert status(web, secret) == 401
    in_process(admin, lambda: accounts.create_api_key("late-bot", ["booking"], secret=secret))
    assert status(web, secret) == 200


def test_wrong_keys_are_not_remembered_so_guessing_cannot_grow_the_cache(
    app: Flask, client: FlaskClient, auth: dict[str, str]
) -> None:
    assert client.get(SERVICES, headers=auth).status_code == 200
    with api_key_statements() as lookups:
        for n in range(50):
            assert client.get(SERVICES, headers={"X-API-Key": f"pb_guess-{n}"}).status_code == 401
    assert len(lookups) == 50  # each wrong key is read from the database, as before
    cache: SharedCache = app.extensions["pelubot_shared_caches"]["api-keys"]
    assert len(cache.entries) == 1  # only the real key


def test_scope_and_active_changes_through_the_session_apply_at_once(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    assert client.get(SERVICES, headers=auth).status_code == 200
    key = db.session.scalars(select(ApiKey)).one()
    key.scopes = "ops"  # a write no service function made (as a factory would)
    db.session.commit()
    assert client.get(SERVICES, headers=auth).status_code == 403
    key.scopes, key.active = "booking", False
    db.session.commit()
    assert client.get(SERVICES, headers=auth).status_code == 401
    key.active = True
    db.session.commit()
    assert client.get(SERVICES, headers=auth).status_code == 200


def test_without_redis_a_revoked_key_is_refused_and_valid_keys_still_work(
    migrated_database_url: str,
) -> None:
    web, admin = two_processes(
        migrated_database_url, redis_url=f"redis://127.0.0.1:{free_port()}/0"
    )
    old = in_process(admin, accounts.create_api_key, "old-bot", ["booking"]).secret
    new = in_process(admin, accounts.create_api_key, "new-bot", ["booking"]).secret
    assert status(web, old) == 200
    assert status(web, new) == 200
    in_process(admin, accounts.revoke_api_key, "old-bot")  # cannot tell web: Redis is down
    assert status(web, old) == 401
    assert status(web, new) == 200


def test_last_use_still_moves_forward_when_the_key_comes_from_the_cache(
    client: FlaskClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "LAST_USED_RESOLUTION", timedelta(milliseconds=300))
    assert client.get(SERVICES, headers=auth).status_code == 200
    key_id = db.session.scalars(select(ApiKey.id)).one()
    first = last_used_at(key_id)
    assert first is not None
    assert client.get(SERVICES, headers=auth).status_code == 200
    assert last_used_at(key_id) == first  # within the resolution: not written again
    time.sleep(0.35)
    with api_key_statements() as statements:
        assert client.get(SERVICES, headers=auth).status_code == 200
    assert [s for s in statements if s.lstrip().upper().startswith("SELECT")] == []  # a hit
    later = last_used_at(key_id)
    assert later is not None
    assert later > first
