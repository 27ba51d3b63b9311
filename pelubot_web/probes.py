"""Liveness and readiness probes. ``/ready`` never calls Google."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from flask.wrappers import Response
from sqlalchemy import text

from pelubot_web.extensions import csrf, db, limiter
from pelubot_web.redis_client import get_redis

bp = Blueprint("probes", __name__)
csrf.exempt(bp)
limiter.exempt(bp)

CHECK_TIMEOUT_S = 1.0
# Checks run in their own threads so a hung socket cannot hold the probe past its timeout.
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ready-check")

Check = Callable[[Flask], dict[str, Any]]


def register_check(app: Flask, name: str, check: Check) -> None:
    """Add a readiness check (e.g. the worker heartbeat) from another part of the app."""
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
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        result["ms"] = round((time.monotonic() - started) * 1000, 1)
        results[name] = result
    return results


@bp.get("/health")
def health() -> Response:
    """Liveness: the process answers. No I/O."""
    return jsonify(status="ok")


@bp.get("/ready")
def ready() -> tuple[Response, int]:
    """Readiness: database and Redis answer within 1 s each (plus registered checks)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    checks: dict[str, Check] = {"database": _check_database, "redis": _check_redis}
    checks.update(app.extensions.get("pelubot_ready_checks", {}))
    results = _run_all(app, checks)
    failing = [name for name, result in results.items() if not result["ok"]]
    body: dict[str, Any] = {"status": "ok" if not failing else "unavailable", "checks": results}
    if failing:
        body["failing"] = failing
    return jsonify(body), 200 if not failing else 503
