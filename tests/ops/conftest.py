"""Fixtures for operating PeluBot: a production-like configuration, real worker processes."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from pelubot_web.config import Config
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
        "gcal_backend": "google",
        "gcal_credentials_file": factories.service_account_file(directory),
    }
    values.update(overrides)
    return make_config(database_url, **values)


@pytest.fixture
def config(migrated_database_url: str, tmp_path: Path) -> Config:
    return production_config(migrated_database_url, tmp_path)
