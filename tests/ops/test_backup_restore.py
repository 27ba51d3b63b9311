"""The restore drill of docs/operations.md: pg_dump as the backup unit runs it, pg_restore."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import make_url

from pelubot_web import create_app
from pelubot_web.config import current_config
from pelubot_web.extensions import db
from pelubot_web.models import Reservation, Service, Stylist
from pelubot_web.services import demo
from tests import factories
from tests.conftest import DIALECT, DatabaseFactory, make_config
from tests.ops.conftest import all_rows, assert_overlap_refused

pytestmark = pytest.mark.skipif(
    DIALECT != "postgresql" or shutil.which("pg_restore") is None,
    reason="pg_dump / pg_restore drill needs PostgreSQL and its client tools",
)


def libpq_url(url: str) -> str:
    """The URL as pg_dump takes it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_a_nightly_dump_restores_into_a_working_database(
    app: Flask, database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    demo.seed_demo(current_config(app).tz)
    stylist = db.session.scalars(select(Stylist)).first()
    service = db.session.scalars(select(Service)).first()
    assert stylist
    assert service
    booked = factories.reservation(stylist, service, factories.local(factories.next_weekday(2), 11))
    db.session.commit()
    dump = tmp_path / "pelubot.dump"

    subprocess.run(
        [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            f"--file={dump}",
            libpq_url(app.config["SQLALCHEMY_DATABASE_URI"]),
        ],
        check=True,
        timeout=120,
    )
    restored_url = database_factory.new_url("restored")
    subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            "--exit-on-error",
            f"--dbname={libpq_url(restored_url)}",
            str(dump),
        ],
        check=True,
        timeout=120,
    )

    restored = create_app(make_config(restored_url))
    assert all_rows(restored) == all_rows(app)
    with restored.app_context():
        copy = db.session.get(Reservation, booked.id)
        assert copy is not None
        assert_overlap_refused(copy)
        db.session.remove()
        db.engine.dispose()
