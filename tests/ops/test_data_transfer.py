"""``flask data export`` / ``import``: a dev SQLite database copied row for row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import select

from pelubot_web import create_app
from pelubot_web.config import current_config
from pelubot_web.extensions import db
from pelubot_web.models import (
    CalendarPullState,
    CalendarSyncJob,
    Customer,
    ExternalBusy,
    IdempotencyRecord,
    Reservation,
    Service,
    Stylist,
)
from pelubot_web.models.types import utcnow
from pelubot_web.services import accounts, demo
from tests import factories
from tests.conftest import DIALECT, DatabaseFactory, make_config, upgrade_database
from tests.ops.conftest import all_rows, assert_overlap_refused


@pytest.fixture
def dev_database(tmp_path: Path) -> Iterator[Flask]:
    """A dev SQLite database with a bit of everything: the salon, bookings, sync state."""
    url = f"sqlite:///{tmp_path / 'dev.sqlite3'}"
    upgrade_database(url)
    app = create_app(make_config(url))
    with app.app_context():
        fill_like_a_salon_in_use(app)
        yield app
        db.session.remove()
        db.engine.dispose()


def fill_like_a_salon_in_use(app: Flask) -> None:
    demo.seed_demo(current_config(app).tz)
    stylist = db.session.scalars(select(Stylist).order_by(Stylist.id)).first()
    service = db.session.scalars(select(Service).order_by(Service.id)).first()
    assert stylist
    assert service
    start = factories.local(factories.next_weekday(1), 10)
    synced = factories.reservation(stylist, service, start, sync_status="synced", version=3)
    synced.synced_calendar_id, synced.synced_version = stylist.calendar_id, 3
    synced.last_synced_at = utcnow()
    failed = factories.reservation(
        stylist, service, start + timedelta(hours=2), sync_status="failed", notes="Mechas ✂"
    )
    # A cancelled booking may overlap a live one: the guarantee covers live ones only.
    factories.reservation(stylist, service, start, status="cancelled", cancelled_at=utcnow())
    done = CalendarSyncJob(reservation=synced, target_version=3, status="succeeded", attempts=1)
    broken = CalendarSyncJob(
        reservation=failed, target_version=1, status="failed", attempts=8, last_error="403"
    )
    db.session.add_all([done, broken])
    db.session.flush()
    synced.sync_job_id, failed.sync_job_id, failed.last_sync_error = done.id, broken.id, "403"
    db.session.add_all(
        [
            ExternalBusy(
                stylist=stylist,
                calendar_id=stylist.calendar_id,
                event_id="dentista",
                start_at=start + timedelta(days=1),
                end_at=start + timedelta(days=1, hours=1),
            ),
            CalendarPullState(stylist_id=stylist.id, calendar_id="c", sync_token="tok-1"),
            IdempotencyRecord(
                principal="k1",
                key="abc",
                request_fingerprint="f",
                status_code=201,
                response_body='{"id": 1}',
            ),
        ]
    )
    db.session.commit()
    accounts.create_user("ana@salon.es", "correct horse battery", "admin")
    accounts.create_api_key("chatbot", ["booking"])


@pytest.fixture
def empty_target(database_factory: DatabaseFactory) -> Iterator[Flask]:
    """A freshly migrated database of the suite's kind (PostgreSQL in the PostgreSQL run)."""
    url = database_factory.new_url("import")
    upgrade_database(url)
    app = create_app(make_config(url))
    yield app
    with app.app_context():
        db.engine.dispose()


def run_command(app: Flask, *args: str) -> Any:
    """``flask <args>`` against ``app`` (its own context: commands use the current one)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def run_import(app: Flask, path: Path) -> Any:
    return run_command(app, "data", "import", str(path))


@pytest.fixture
def dump(dev_database: Flask, tmp_path: Path) -> Path:
    path = tmp_path / "salon.jsonl"
    result = run_command(dev_database, "data", "export", str(path))
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def copied(dev_database: Flask, empty_target: Flask, dump: Path) -> Flask:
    """The target after a successful import of the dev database."""
    result = run_import(empty_target, dump)
    assert result.exit_code == 0, result.output
    return empty_target


def test_every_row_is_copied_with_its_ids_and_sync_state(
    dev_database: Flask, copied: Flask, dump: Path
) -> None:
    source = all_rows(dev_database)
    assert all_rows(copied) == source
    assert all(source[name] for name in ("reservations", "calendar_sync_jobs", "users"))
    tables_in_file = {json.loads(line).get("table") for line in dump.read_text().splitlines()}
    assert {t.name for t in db.metadata.sorted_tables if source[t.name]} <= tables_in_file


def test_new_rows_get_ids_after_the_copied_ones(copied: Flask) -> None:
    with copied.app_context():
        highest = max(db.session.scalars(select(Customer.id)))
        customer = factories.customer()
        db.session.commit()
        assert customer.id == highest + 1
        db.session.remove()


@pytest.mark.skipif(DIALECT != "postgresql", reason="exclusion constraints are PostgreSQL-only")
def test_the_no_overlap_guarantee_holds_after_the_import(copied: Flask) -> None:
    with copied.app_context():
        live = db.session.scalars(
            select(Reservation).where(Reservation.status == "confirmed").order_by(Reservation.id)
        ).first()
        assert live is not None
        assert_overlap_refused(live)
        db.session.remove()


@pytest.mark.skipif(DIALECT != "postgresql", reason="exclusion constraints are PostgreSQL-only")
def test_overlapping_bookings_in_the_source_are_refused_and_nothing_is_imported(
    dev_database: Flask, empty_target: Flask, tmp_path: Path
) -> None:
    """SQLite only re-checks in the booking service; rows written around it are caught here."""
    live = db.session.scalars(select(Reservation).where(Reservation.status == "confirmed")).first()
    assert live is not None
    factories.reservation(live.stylist, live.service, live.start_at)  # written around the service
    db.session.commit()
    dump = tmp_path / "salon.jsonl"
    assert run_command(dev_database, "data", "export", str(dump)).exit_code == 0

    result = run_import(empty_target, dump)

    assert result.exit_code == 1
    assert "reservations: the database refused a row" in result.output
    assert "ex_reservations_no_overlap" in result.output
    assert not any(all_rows(empty_target).values())


def test_only_an_empty_database_accepts_an_import(copied: Flask, dump: Path) -> None:
    before = all_rows(copied)

    again = run_import(copied, dump)

    assert again.exit_code == 1
    assert "this database is not empty" in again.output
    assert all_rows(copied) == before


def test_both_databases_must_be_at_the_same_migration(
    dump: Path, database_factory: DatabaseFactory
) -> None:
    unmigrated = create_app(make_config(database_factory.new_url("bare")))

    result = run_import(unmigrated, dump)

    with unmigrated.app_context():
        db.engine.dispose()
    assert result.exit_code == 1
    assert "this database at None: run `flask db upgrade` on both" in result.output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "not a PeluBot export"),
        ('{"format": "pelubot-data", "version": 99, "revision": null}\n', "version 99"),
        ("HEADER\n" + '{"table": "salons", "row": {"id": 1}}\n', "unknown table 'salons'"),
        ("HEADER\n" + '{"table": "services", "row": {"colour": 1}}\n', "services has no column"),
        ("HEADER\n" + '{"table": "services"}\n', "line 2 is not a row"),
    ],
)
def test_a_damaged_file_is_refused_with_its_line(
    empty_target: Flask, tmp_path: Path, content: str, expected: str
) -> None:
    with empty_target.app_context(), db.engine.connect() as conn:
        revision = MigrationContext.configure(conn).get_current_revision()
    header = json.dumps({"format": "pelubot-data", "version": 1, "revision": revision})
    path = tmp_path / "damaged.jsonl"
    path.write_text(content.replace("HEADER", header))

    result = run_import(empty_target, path)

    assert result.exit_code == 1
    assert expected in result.output
