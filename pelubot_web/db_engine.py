"""Engine setup per database: SQLite pragmas, the write-lock-up-front booking
transaction, and a liveness ping for pooled connections that sat idle.

Pooled connections are pinged on checkout only after ``PING_AFTER_IDLE_S`` of rest, not
on every checkout (``pool_pre_ping``): a request or sync job checks a connection out
several times, and each ping is a database round trip. What a ping protects against
(a server restart, an idle-connection timeout, a proxy dropping quiet sockets) hits
connections that have rested; a connection checked in a moment ago is alive unless the
server died in that moment, and then the first statement's disconnect error makes
SQLAlchemy discard the whole pool (the request gets a 503, like any database outage).

pysqlite opens transactions itself, lazily and DEFERRED, which breaks two things we need:
a booking must hold SQLite's write lock *before* it checks for overlaps (otherwise two
writers both see a free slot), and SAVEPOINTs must work. We follow SQLAlchemy's pysqlite
recipe: turn the driver's own BEGIN off and emit BEGIN ourselves in the ``begin`` event.
A transaction started on a connection with the execution option
``pelubot_sqlite_begin="IMMEDIATE"`` (see ``write_transaction_options``) becomes
``BEGIN IMMEDIATE``. WAL mode keeps readers unblocked while a booking holds the lock.
PostgreSQL needs nothing here: its exclusion constraint refuses overlaps.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError

from pelubot_web.extensions import db

BEGIN_OPTION = "pelubot_sqlite_begin"
# How long a SQLite connection waits for the write lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 15_000
# A pooled connection idle for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_S = 5.0
_CHECKED_IN = "pelubot_checked_in"


def write_transaction_options() -> dict[str, Any]:
    """Execution options for a transaction that writes after checking (booking paths)."""
    return {BEGIN_OPTION: "IMMEDIATE"}


def ping_rested_connections(engine: Engine) -> None:
    """Ping a pooled connection on checkout if it rested ``PING_AFTER_IDLE_S`` or more.

    A failed ping raises ``DisconnectionError``: the pool discards that connection and
    hands out a new one (SQLAlchemy's documented custom pessimistic check).
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.pop(_CHECKED_IN, None)
        if checked_in is None or time.monotonic() - checked_in < PING_AFTER_IDLE_S:
            return  # new, or back in the pool a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc


def configure_engine(engine: Engine) -> None:
    ping_rested_connections(engine)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (the pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            # SQLite ignores foreign keys (and ON DELETE rules) unless asked, per connection.
            cursor.execute("PRAGMA foreign_keys = ON")
            if engine.url.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(BEGIN_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def init_app(app: Flask) -> None:
    """Attach the per-dialect setup to the app's engines (no connection is opened)."""
    with app.app_context():
        for engine in db.engines.values():
            configure_engine(engine)


def begin_write() -> None:
    """Start the session's next transaction as a writer (``BEGIN IMMEDIATE`` on SQLite).

    For code that reads and then writes: a SQLite read transaction cannot be upgraded to
    a write once another connection has committed ("database is locked" at once, no
    waiting), so an open read-only transaction is ended first. On PostgreSQL (READ
    COMMITTED: every statement sees what is committed) it simply goes on writing, which
    saves a ROLLBACK and a BEGIN; what it loaded is expired all the same, so a locking
    read refreshes it. Pending changes are a bug.
    """
    session = db.session()
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write() needs a session without pending changes")
        if session.get_bind().dialect.name != "sqlite":
            session.expire_all()
            return
        session.rollback()
    session.connection(execution_options=write_transaction_options())
