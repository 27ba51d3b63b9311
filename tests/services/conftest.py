"""Service tests run inside the ``app`` fixture's context on a clean database."""

from __future__ import annotations

import pytest
from redis import Redis

from tests.conftest import TEST_REDIS_URL


@pytest.fixture(autouse=True)
def _clean_redis() -> None:
    # Catalog cache versions and limiter counters live in the suite's Redis db.
    Redis.from_url(TEST_REDIS_URL).flushdb()
