"""Hostile input on every HTML route, form field and query parameter never gives a 5xx.

Routes come from ``app.url_map``; form fields from every ``BaseForm`` subclass; query
parameter names from the views' ``args.get("...")`` calls. Each route is tried by the
roles that can reach it, with a table of values that crashed the app in the past (dates
at the calendar's limits, integers beyond the database's range, control characters,
slot values with extreme offsets, ...). Runs on SQLite and PostgreSQL like every test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from pelubot_web.config import Config
from pelubot_web.extensions import db
from pelubot_web.services import manage_links
from pelubot_web.web.forms import BaseForm
from tests import factories
from tests.conftest import make_config
from tests.web.conftest import PASSWORD, Salon, book, csrf_token

# Fuzzing (every route x a table of hostile values): out of `make check`.
pytestmark = pytest.mark.slow

WEB_SOURCES = Path(__file__).resolve().parents[2] / "pelubot_web" / "web"
ARGS_GET = re.compile(r"""(?:args|source|form)\.get\(\s*["']([a-z_]+)["']""")

HOSTILE = [
    "9999-12-31",
    "0001-01-01",
    "99999999999999999999",
    "-2147483649",
    "2.7",
    "a\x00b",
    "\x1b[31mred",
    "x" * 3000,
    "1|9999-12-31T23:59:59-23:59",
    "1|0001-01-01T00:00:00+23:59",
    "2026-02-30",
    "2026-03-29T02:30",
    "' OR 1=1 --",
]
HOSTILE_PATH = ["99999999999999999999", "2147483648", "a%00b", "%1b[31m", "x" * 400]
# Session-ending or whole-queue actions are not fuzzed (they would log the fuzzer out).
# /ready answers 503 by design when a dependency is down; it reads no input.
# Logout ends the fuzzing session; the probes answer 503 on purpose (no worker runs here).
SKIP_ENDPOINTS = frozenset(
    {
        "auth.logout",
        "auth.sign_out_everywhere",
        "static",
        "metrics",
        "probes.ready",
        "probes.ready_sync",
    }
)


def _form_fields() -> set[str]:
    names: set[str] = set()
    pending = list(BaseForm.__subclasses__())
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        names.update(
            name
            for name in dir(form)
            if not name.startswith("_") and hasattr(getattr(form, name), "field_class")
        )
    return names - {"csrf_token"}


def _query_params() -> set[str]:
    found: set[str] = set()
    for path in WEB_SOURCES.rglob("*.py"):
        found.update(ARGS_GET.findall(path.read_text(encoding="utf-8")))
    return found


@pytest.fixture
def config(migrated_database_url: str) -> Config:
    """No rate limits here: the point is to reach the handlers with every value."""
    limits = {"booking_rate_limit": "100000/minute", "login_rate_limit": "100000/minute"}
    return make_config(migrated_database_url, **limits)


def _real_path_values(salon: Salon) -> dict[str, str]:
    reservation = book(salon, salon.lucia, 11)
    token, token_hash = manage_links.new_manage_token()
    reservation.manage_token_hash = token_hash
    later = salon.day + timedelta(days=1)
    factories.time_off(salon.lucia, factories.local(later, 10), factories.local(later, 12))
    factories.closure(salon.day + timedelta(days=20))
    db.session.commit()
    return {
        "stylist_id": str(salon.lucia.id),
        "service_id": str(salon.service.id),
        "user_id": str(salon.ops.id),
        "reservation_uuid": reservation.uuid,
        "token": token,
    }


def _url(rule: Rule, values: dict[str, str], default: str) -> str:
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{arg}>", values.get(arg, default), url)
    return url


def _fuzz(client: FlaskClient, rules: list[Rule], real: dict[str, str]) -> list[str]:
    fields, params = _form_fields(), _query_params()
    failures: list[str] = []
    token = csrf_token(client)

    def check(method: str, url: str, **kw: object) -> None:
        where = f"{method} {url[:100]!r} {str(kw)[:100]}"
        try:  # the test app propagates exceptions instead of rendering the 500 page
            response = client.open(url, method=method, **kw)  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001  (every crash is a finding)
            failures.append(f"{where} -> {type(exc).__name__}: {exc}"[:400])
            db.session.rollback()
            return
        if response.status_code >= 500:
            failures.append(f"{where} -> {response.status_code}")

    for rule in rules:
        _fuzz_rule(check, rule, real, token, fields, params)
    return failures


def _fuzz_rule(
    check: Callable[..., None],
    rule: Rule,
    real: dict[str, str],
    token: str,
    fields: set[str],
    params: set[str],
) -> None:
    """Hostile path segments, then hostile values in every query parameter and field."""
    methods = sorted((rule.methods or set()) & {"GET", "POST"})
    if rule.arguments:
        for bad in HOSTILE_PATH:
            for method in methods:
                check(method, _url(rule, {}, bad), data={"csrf_token": token})
    base = _url(rule, real, "1")
    for value in HOSTILE:
        if "GET" in methods:
            check("GET", base, query_string={name: value for name in params})
        if "POST" in methods:
            form = {name: value for name in fields} | {"csrf_token": token}
            check("POST", base, data=form)


def _rules(app: Flask, prefixes: tuple[str, ...]) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in SKIP_ENDPOINTS
        and not rule.rule.startswith("/api/")
        and rule.rule.startswith(prefixes)
    ]


@pytest.mark.parametrize(
    ("email", "prefixes"),
    [
        (None, ("/book", "/login", "/lang", "/health", "/ready", "/")),
        ("admin@salon.test", ("/admin", "/pro", "/account", "/")),
        ("lucia@salon.test", ("/pro", "/account")),
    ],
    ids=["anonymous", "admin", "stylist"],
)
def test_no_hostile_value_gives_a_server_error(
    app: Flask, salon: Salon, email: str | None, prefixes: tuple[str, ...]
) -> None:
    real = _real_path_values(salon)
    client = app.test_client()
    if email:
        response = client.post(
            "/login", data={"csrf_token": csrf_token(client), "email": email, "password": PASSWORD}
        )
        assert response.status_code == 303
    failures = _fuzz(client, _rules(app, prefixes), real)
    if failures:
        pytest.fail(f"{len(failures)} server errors:\n" + "\n".join(failures))
