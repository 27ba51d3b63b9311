"""Fixtures for the HTML views: a small salon, one user per role, a CSRF-aware client."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from werkzeug.test import TestResponse

from pelubot_web.extensions import db
from pelubot_web.models import Service, Stylist, User
from pelubot_web.services import accounts
from tests import factories

PASSWORD = "correct horse battery"
ALL_WEEK = {d: [(time(10), time(14)), (time(15), time(20))] for d in range(7)}
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


# Each request runs in its own app context: see IsolatedClient in tests/conftest.py.


@pytest.fixture(autouse=True)
def _fresh_rate_limits(redis_conn: Redis) -> None:
    """Rate-limit counters live in Redis: every test starts from an empty db."""


def csrf_token(client: FlaskClient) -> str:
    """The session's CSRF token, read from the meta tag every page carries."""
    page = client.get("/no-such-page").get_data(as_text=True)
    match = META_CSRF.search(page)
    assert match, "every page must carry the CSRF meta tag"
    return match.group(1)


def post(
    client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kw: Any
) -> TestResponse:
    """A form POST with the session's CSRF token, as a browser would send it."""
    payload = {"csrf_token": csrf_token(client), **(data or {})}
    return client.post(url, data=payload, **kw)


def hx_post(
    client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kw: Any
) -> TestResponse:
    """An htmx POST: token in the X-CSRFToken header (as hx-headers sends it)."""
    headers = {"HX-Request": "true", "X-CSRFToken": csrf_token(client)}
    return client.post(url, data=data or {}, headers=headers, **kw)


def hx_get(client: FlaskClient, url: str, **kw: Any) -> TestResponse:
    return client.get(url, headers={"HX-Request": "true"}, **kw)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> TestResponse:
    response = post(client, "/login", {"email": email, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response


@dataclass
class Salon:
    service: Service
    long_service: Service
    lucia: Stylist
    carmen: Stylist
    day: date  # a working day a week ahead, well inside the booking window
    stylist_user: User
    other_stylist_user: User
    admin: User
    ops: User


@pytest.fixture
def salon(app: Flask) -> Salon:
    factories.booking_rules(min_notice_min=60, max_advance_days=60, slot_granularity_min=15)
    cut = factories.service(slug="corte", name="Corte mujer", duration_min=45, price_cents=3200)
    color = factories.service(slug="color", name="Color raíz", duration_min=90, price_cents=5500)
    lucia = factories.stylist([cut, color], hours=ALL_WEEK, slug="lucia", name="Lucía Fernández")
    carmen = factories.stylist([cut], hours=ALL_WEEK, slug="carmen", name="Carmen Ruiz")
    db.session.commit()
    return Salon(
        service=cut,
        long_service=color,
        lucia=lucia,
        carmen=carmen,
        day=factories.next_weekday(2, weeks_ahead=1),
        stylist_user=accounts.create_user("lucia@salon.test", PASSWORD, "stylist", "lucia"),
        other_stylist_user=accounts.create_user("carmen@salon.test", PASSWORD, "stylist", "carmen"),
        admin=accounts.create_user("admin@salon.test", PASSWORD, "admin"),
        ops=accounts.create_user("ops@salon.test", PASSWORD, "ops"),
    )


def book(salon: Salon, stylist: Stylist, hour: int, minute: int = 0, **fields: Any) -> Any:
    """A committed reservation at a local time on the salon's test day."""
    reservation = factories.reservation(
        stylist,
        fields.pop("service", salon.service),
        factories.local(salon.day, hour, minute),
        **fields,
    )
    db.session.commit()
    return reservation


def fresh() -> None:
    """End the test's own transaction so it sees what requests committed (SQLite snapshot)."""
    db.session.rollback()


def tomorrow(day: date) -> date:
    return day + timedelta(days=1)
