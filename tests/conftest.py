"""Shared fixtures: an app per test with its own clean database, real Redis, factories.

The database comes from ``PELUBOT_DATABASE_URL``: unset means SQLite (a file per test
session), a ``postgresql://`` URL means PostgreSQL: the suite creates its own databases
on that server (named after the given one) and drops them at the end.
"""

from __future__ import annotations

import contextvars
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from redis import Redis
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from pelubot_web import create_app
from pelubot_web.config import Config
from pelubot_web.extensions import db


def _test_redis_url() -> str:
    """A Redis db number of our own: tests flush it, never the default db 0.

    Under pytest-xdist (``make check``) worker ``gwN`` takes the given db number + N, so
    parallel workers never flush each other's queues and rate-limit counters.
    """
    url = urlsplit(os.environ.get("PELUBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/13"))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url.geturl()
    number = int(url.path.strip("/") or 0) + int(worker.removeprefix("gw"))
    if number > 15:
        raise pytest.UsageError(
            f"Redis db {number} for {worker} is past 15: run fewer xdist workers "
            "or lower the db number in PELUBOT_TEST_REDIS_URL"
        )
    return url._replace(path=f"/{number}").geturl()


TEST_REDIS_URL = _test_redis_url()
ARTIFACTS = Path(__file__).parent / "artifacts"


def free_port() -> int:
    """A TCP port nothing listens on (for a server to start on, or to be refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _base_database_url() -> str | None:
    url = os.environ.get("PELUBOT_DATABASE_URL", "").strip()
    if url.startswith("postgres"):
        return Config(env="test", database_url=url).validated().database_url
    return None


PG_BASE_URL = _base_database_url()
DIALECT = "postgresql" if PG_BASE_URL else "sqlite"
# werkzeug's pbkdf2 with few rounds: scrypt costs ~0.1 s of CPU per hash, and most web
# tests create several users, which alone would take `make check` past a minute. Hashing
# and checking stay real; only the work factor is lower (subprocesses keep scrypt).
TEST_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


E2E_DIR = Path(__file__).parent / "e2e"


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under ``tests/e2e/`` is ``e2e`` (it drives Chromium), so ``make check``
    cannot pick one up through a forgotten marker. ``@pytest.mark.postgres_only(reason=...)``
    is skipped, visibly, on a SQLite run."""
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)
        marker = item.get_closest_marker("postgres_only")
        if marker is not None and DIALECT == "sqlite":
            why = marker.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=f"needs PostgreSQL: {why}".rstrip(": ")))


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    from pelubot_web.services import passwords

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "PASSWORD_HASH_METHOD", TEST_PASSWORD_HASH_METHOD)
        yield


class DatabaseFactory:
    """Creates empty databases for the run and drops them at the end."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self.created: list[str] = []

    def new_url(self, label: str = "db") -> str:
        suffix = uuid.uuid4().hex[:8]
        if PG_BASE_URL is None:
            return f"sqlite:///{self.tmp_dir / f'{label}-{suffix}.sqlite3'}"
        base = make_url(PG_BASE_URL)
        name = f"{base.database}_{label}_{suffix}"[:63]
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return base.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if PG_BASE_URL is None or not self.created:
            return
        admin = create_engine(make_url(PG_BASE_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    factory.drop_all()


def make_config(database_url: str, **overrides: object) -> Config:
    values: dict[str, object] = {
        "env": "test",
        "database_url": database_url,
        "redis_url": TEST_REDIS_URL,
        "secret_key": "test-secret-key-not-for-production",
        "gcal_backend": "disabled",
    }
    values.update(overrides)
    return Config(**values).validated()  # type: ignore[arg-type]


def upgrade_database(url: str) -> None:
    """Bring a database to the latest migration, exactly as ``flask db upgrade`` does."""
    from flask_migrate import upgrade

    app = create_app(make_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_database_url(database_factory: DatabaseFactory) -> str:
    url = database_factory.new_url("suite")
    upgrade_database(url)
    return url


def _clean_database(app: Flask) -> None:
    """Empty every table and restart the ids at 1.

    ``DELETE`` children first, not ``TRUNCATE``: on PostgreSQL a truncate makes new files
    for 19 tables (~160 ms a test), a delete of a few rows ~10 ms.
    """
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))


@pytest.fixture
def config(migrated_database_url: str) -> Config:
    return make_config(migrated_database_url)


class IsolatedClient(FlaskClient):
    """A test client whose requests each get their own app context, as in production.

    The ``app`` fixture keeps an app context open for the whole test (so tests can use
    ``db.session`` directly); without this, every request would share that context's
    ``g`` and database session with the test and with each other, hiding bugs that only
    show when each request stands alone. Data a request should see must be committed.
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        return contextvars.Context().run(super().open, *args, **kwargs)


class SessionTemplateCache(BytecodeCache):
    """Compiled templates shared by the test apps (each app has its own Jinja environment).

    Keyed by template name and source checksum, as Jinja's own caches are, so an edited
    template is compiled again. Compiling every template once per test was a fifth of
    the fast lane's time.
    """

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = SessionTemplateCache()


class CachedBuilderRule(Rule):
    """A URL rule whose URL builders are compiled once per test session, not once per app.

    Werkzeug generates each rule's two builder functions with ``ast`` when the rule is
    bound: over half of ``create_app``, which runs for every test. The generated code is a
    function of the rule text, its parsed trace and its defaults only (the converters are
    looked up on the bound rule at call time), so those are the cache key. Production
    keeps werkzeug's own ``Rule``; werkzeug is pinned, so a change to this private method
    shows up as an upgrade diff.
    """

    builders: ClassVar[dict[tuple[object, ...], Callable[..., tuple[str, str]]]] = {}

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        defaults = tuple(sorted((self.defaults or {}).items(), key=repr))
        key = (self.rule, tuple(self._trace), repr(defaults), append_unknown)
        if key not in self.builders:
            self.builders[key] = super()._compile_builder(append_unknown)
        return self.builders[key]


@pytest.fixture(autouse=True, scope="session")
def _url_builders_compiled_once() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flask, "url_rule_class", CachedBuilderRule)
        yield


@pytest.fixture
def app(config: Config) -> Iterator[Flask]:
    application = create_app(config)
    application.test_client_class = IsolatedClient
    application.jinja_env.bytecode_cache = TEMPLATE_CACHE
    with application.app_context():
        _clean_database(application)
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def redis_conn() -> Iterator[Redis]:
    """Real Redis on the suite's own db number, emptied before and after the test."""
    conn = Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


def two_processes(database_url: str, **config: object) -> tuple[Flask, Flask]:
    """Two apps on the same (emptied) database and Redis, as two gunicorn workers or a web
    process and an admin's: what one commits, the other must see."""
    cfg = make_config(database_url, **config)
    first, second = create_app(cfg), create_app(cfg)
    with first.app_context():
        _clean_database(first)
    return first, second


@contextmanager
def sql_statements() -> Iterator[list[str]]:
    """Every SQL statement the current app's engine sends inside the block, whitespace
    folded: what a request really asks the database (no timings in tests, but the number
    and kind of queries are behaviour)."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
