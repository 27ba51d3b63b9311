"""Fixtures for operating PeluBot: a production-like configuration, real worker processes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pelubot_web.config import Config
from pelubot_web.extensions import db
from pelubot_web.mail.catcher import RunningCatcher, run_catcher
from pelubot_web.models import Reservation
from tests import factories
from tests.conftest import make_config
from tests.sync.conftest import (  # noqa: F401  (fixtures shared with the sync tests)
    emulator,
    emulator_server,
    start_worker,
)


def production_config(database_url: str, directory: Path, **overrides: object) -> Config:
    """What a careful operator deploys: prod, strong distinct secrets, https behind nginx."""
    values: dict[str, object] = {
        "env": "prod",
        "secret_key": secrets.token_urlsafe(48),
        "api_key": secrets.token_urlsafe(48),
        "public_base_url": "https://reservas.peluqueria.es",
        "bind_host": "127.0.0.1",
        "trusted_proxies": 1,
        "metrics_allowed_networks": ("10.0.0.0/8",),
        "gcal_backend": "google",
        "gcal_credentials_file": factories.service_account_file(directory),
    }
    values.update(overrides)
    return make_config(database_url, **values)


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[RunningCatcher]:
    """The salon's mail provider, played by the dev mail catcher (a real SMTP server)."""
    with run_catcher() as running:
        yield running


@pytest.fixture
def config(migrated_database_url: str, tmp_path: Path, smtp_server: RunningCatcher) -> Config:
    return production_config(
        migrated_database_url, tmp_path, mail_backend="smtp", smtp_url=smtp_server.smtp_url
    )


def all_rows(app: Flask) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of ``app``'s database, in primary-key order."""
    with app.app_context(), db.engine.connect() as conn:
        return {
            table.name: [
                dict(row._mapping)
                for row in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in db.metadata.sorted_tables
        }


def assert_overlap_refused(live: Reservation) -> None:
    """The database itself refuses a second live reservation overlapping ``live``."""
    db.session.add(overlapping(live))
    with pytest.raises(IntegrityError, match="ex_reservations_no_overlap"):
        db.session.commit()
    db.session.rollback()


def overlapping(live: Reservation, minutes: int = 15) -> Reservation:
    """A live reservation for the same stylist, ``minutes`` later, so the two overlap."""
    shift = timedelta(minutes=minutes)
    return Reservation(
        stylist_id=live.stylist_id,
        service_id=live.service_id,
        customer_id=live.customer_id,
        customer_name=live.customer_name,
        customer_email=live.customer_email,
        start_at=live.start_at + shift,
        end_at=live.end_at + shift,
        busy_until=live.busy_until + shift,
        source="portal",
        price_cents=live.price_cents,
    )
