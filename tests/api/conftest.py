"""API test fixtures: a bookable salon, API keys, a clean Redis for limits and caches."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from redis import Redis

from pelubot_web.services.accounts import create_api_key
from tests import factories as f
from tests.conftest import TEST_REDIS_URL


@pytest.fixture(autouse=True)
def _clean_redis() -> None:
    # Rate-limit counters ("key:1", ...) and the catalog version must not leak between
    # tests whose databases restart ids.
    Redis.from_url(TEST_REDIS_URL).flushdb()


@pytest.fixture
def salon(app: Flask) -> f.Salon:
    return f.Salon()


@pytest.fixture
def auth(app: Flask) -> dict[str, str]:
    """Headers with a stored API key of scope ``booking``."""
    return {"X-API-Key": create_api_key("chatbot", ["booking"]).secret}


@pytest.fixture
def monday() -> date:
    """A Monday one to two weeks ahead (inside notice and advance limits)."""
    return f.next_weekday(0)


def booking_body(salon: f.Salon, start: str, n: int = 1, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "service_id": salon.cut.id,
        "professional_id": salon.bea.id,
        "start": start,
        "customer": f.customer_payload(n),
        "notes": "Primera vez",
    }
    body.update(changes)
    return body
