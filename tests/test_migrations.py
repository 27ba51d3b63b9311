"""The schema exists only through Alembic, and the migrations match the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from pelubot_web import create_app
from pelubot_web.extensions import db
from tests.conftest import DIALECT, DatabaseFactory, make_config

EXPECTED_TABLES = {
    "services",
    "stylists",
    "stylist_services",
    "working_hours",
    "time_off",
    "salon_closures",
    "booking_rules",
    "customers",
    "reservations",
    "idempotency_records",
    "calendar_sync_jobs",
    "external_busy",
    "calendar_pull_state",
    "users",
    "api_keys",
}


def test_upgrade_check_and_downgrade_on_an_empty_database(
    database_factory: DatabaseFactory,
) -> None:
    app = create_app(make_config(database_factory.new_url("migrations")))
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert tables >= EXPECTED_TABLES

        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": DIALECT == "sqlite"}
            )
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"

        downgrade(revision="base")
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        db.engine.dispose()


# SQLite has no exclusion constraints; the booking transaction guards it instead.
@pytest.mark.postgres_only(reason="exclusion constraints")
def test_postgres_has_the_no_overlap_exclusion_constraint(
    database_factory: DatabaseFactory,
) -> None:
    app = create_app(make_config(database_factory.new_url("exclusion")))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            definition = conn.scalar(
                text(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conname = 'ex_reservations_no_overlap'"
                )
            )
            extension = conn.scalar(text("SELECT 1 FROM pg_extension WHERE extname='btree_gist'"))
        assert definition is not None
        assert "EXCLUDE USING gist" in definition
        assert "status" in definition
        assert "cancelled" in definition
        assert extension == 1
        db.engine.dispose()
