"""Pooled connections: pinged after a rest, not on every checkout."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import select, text, update

from pelubot_web import db_engine
from pelubot_web.extensions import db
from pelubot_web.models import Reservation
from tests import factories as f


@pytest.fixture
def pings(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every liveness ping the engine sends (the dialect's own ``do_ping``)."""
    seen: list[object] = []
    dialect = db.engine.dialect
    real_ping = dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        seen.append(dbapi_connection)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counting)
    return seen


def _one_checkout() -> int | None:
    value = db.session.scalar(text("SELECT 1"))
    db.session.remove()  # back to the pool, as at the end of a request or job step
    return value


def test_a_connection_back_in_the_pool_a_moment_ago_is_not_pinged(
    pings: list[object], client: Any
) -> None:
    for _ in range(3):
        assert _one_checkout() == 1
    assert client.get("/ready").status_code == 200  # a request that reads the database
    assert pings == []


def test_a_connection_that_rested_is_pinged_before_use(
    pings: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    _one_checkout()
    monkeypatch.setattr(db_engine, "PING_AFTER_IDLE_S", 0.0)
    _one_checkout()
    _one_checkout()
    assert len(pings) == 2


@pytest.mark.postgres_only(reason="the server ends one of its sessions")
def test_a_connection_the_server_dropped_while_resting_is_replaced(
    pings: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = db.session.scalar(text("SELECT pg_backend_pid()"))
    db.session.remove()
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])
    monkeypatch.setattr(db_engine, "PING_AFTER_IDLE_S", 0.0)

    replaced = db.session.scalar(text("SELECT pg_backend_pid()"))

    assert replaced != backend
    assert len(pings) == 1


def test_a_write_after_a_read_sees_what_others_committed_in_between(app: Flask) -> None:
    """``begin_write`` after a read: on PostgreSQL the same transaction goes on, yet what
    the read loaded is not trusted (a locking read refreshes it), as after a rollback."""
    svc = f.service()
    reservation = f.reservation(f.stylist([svc]), svc, f.local(f.next_weekday(1), 10))
    db.session.commit()
    assert reservation.version == 1  # loaded in a read transaction, and kept
    with db.engine.begin() as other:
        other.execute(update(Reservation).values(version=2))

    db_engine.begin_write()
    locked = db.session.scalar(select(Reservation).with_for_update())

    assert locked is reservation
    assert locked.version == 2
    db.session.rollback()
