"""Engine setup per database: SQLite pragmas and the write-lock-up-front booking transaction.

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

from typing import Any

from flask import Flask
from sqlalchemy import Engine, event

from pelubot_web.extensions import db

BEGIN_OPTION = "pelubot_sqlite_begin"
# How long a SQLite connection waits for the write lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 15_000


def write_transaction_options() -> dict[str, Any]:
    """Execution options for a transaction that writes after checking (booking paths)."""
    return {BEGIN_OPTION: "IMMEDIATE"}


def configure_engine(engine: Engine) -> None:
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
    waiting). An open read-only transaction is ended first; pending changes are a bug.
    """
    session = db.session()
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write() needs a session without pending changes")
        session.rollback()
    session.connection(execution_options=write_transaction_options())
