"""Liveness and readiness probes. None of them ever calls Google.

- ``/health``: liveness, no I/O.
- ``/ready``: for load balancers. 503 only when this process cannot take bookings (the
  database); Redis, the worker heartbeat and the Google credentials are reported as
  ``degraded`` with 200, because a booking still succeeds without them (the outbox row
  waits) and taking every web process out of rotation would turn a sync problem into
  an outage.
- ``/ready/sync``: for monitoring. 503 when no worker has a fresh heartbeat, a
  stylist's busy-time import is failing or the oldest open outbox row is too old.

In stage/prod a failed check says *which* check failed, never the driver's message
(hostnames, ports, SQL): those go to the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from flask.wrappers import Response
from sqlalchemy import text

from pelubot_web.config import current_config
from pelubot_web.extensions import csrf, db, limiter
from pelubot_web.redis_client import get_redis
from pelubot_web.services.calendar_health import check_sync_health

log = logging.getLogger(__name__)

bp = Blueprint("probes", __name__)
csrf.exempt(bp)
limiter.exempt(bp)

CHECK_TIMEOUT_S = 1.0
# Checks run in their own threads so a hung socket cannot hold the probe past its timeout.
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ready-check")

Check = Callable[[Flask], dict[str, Any]]


CRITICAL_CHECKS = frozenset({"database"})


def register_check(app: Flask, name: str, check: Check) -> None:
    """Add a non-critical readiness check (reported as ``degraded`` when it fails)."""
    app.extensions.setdefault("pelubot_ready_checks", {})[name] = check


def _check_database(app: Flask) -> dict[str, Any]:
    with app.app_context():
        try:
            with db.engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SET LOCAL statement_timeout = 1000"))
                conn.execute(text("SELECT 1"))
        finally:
            db.session.remove()
    return {}


def _check_redis(app: Flask) -> dict[str, Any]:
    get_redis(app).ping()
    return {}


def _run_all(app: Flask, checks: dict[str, Check]) -> dict[str, dict[str, Any]]:
    """Run the checks in parallel; each gets CHECK_TIMEOUT_S from the common start."""
    started = time.monotonic()
    futures = {name: _executor.submit(check, app) for name, check in checks.items()}
    results: dict[str, dict[str, Any]] = {}
    for name, future in futures.items():
        remaining = max(0.0, CHECK_TIMEOUT_S - (time.monotonic() - started))
        try:
            details = future.result(timeout=remaining)
            result: dict[str, Any] = {"ok": True, **details}
        except FutureTimeout:
            result = {"ok": False, "error": f"timed out after {CHECK_TIMEOUT_S:g} s"}
        except Exception as exc:  # noqa: BLE001 - a probe reports any failure as "not ready"
            result = {"ok": False, "error": _describe(app, name, exc)}
        result["ms"] = round((time.monotonic() - started) * 1000, 1)
        results[name] = result
    return results


def _describe(app: Flask, name: str, exc: Exception) -> str:
    """The failure as the caller may see it: full detail only outside stage/prod."""
    log.warning("readiness check %s failed", name, exc_info=exc)
    if current_config(app).is_production_like:
        return "check failed (details in the server log)"
    return f"{type(exc).__name__}: {exc}"[:300]


@bp.get("/health")
def health() -> Response:
    """Liveness: the process answers. No I/O."""
    return jsonify(status="ok")


@bp.get("/ready")
def ready() -> tuple[Response, int]:
    """Readiness for load balancers: 503 only when the database does not answer."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    checks: dict[str, Check] = {"database": _check_database, "redis": _check_redis}
    checks.update(app.extensions.get("pelubot_ready_checks", {}))
    results = _run_all(app, checks)
    failing = [name for name, result in results.items() if not result["ok"]]
    critical = [name for name in failing if name in CRITICAL_CHECKS]
    status = "unavailable" if critical else "degraded" if failing else "ok"
    body: dict[str, Any] = {"status": status, "checks": results}
    if failing:
        body["failing"] = failing
    return jsonify(body), 503 if critical else 200


@bp.get("/ready/sync")
def ready_sync() -> tuple[Response, int]:
    """Calendar sync health for monitoring: worker, outbox age, busy-time imports."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        checks = check_sync_health(app)
    except Exception as exc:  # noqa: BLE001 - the database is down: sync state unknown
        db.session.rollback()
        checks = {"database": {"ok": False, "error": _describe(app, "database", exc)}}
    failing = [name for name, result in checks.items() if not result["ok"]]
    body: dict[str, Any] = {"status": "failing" if failing else "ok", "checks": checks}
    if failing:
        body["failing"] = failing
    return jsonify(body), 503 if failing else 200
