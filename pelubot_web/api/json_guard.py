"""Refuse JSON bodies the app cannot represent, before any view, schema or fingerprint.

Python's parser accepts things the rest of the stack cannot handle: nesting thousands
deep (``RecursionError`` wherever the value is walked again), integers with thousands of
digits, and lone UTF-16 surrogates (``"\\ud800"``), which cannot be encoded as UTF-8 and
crashed the idempotency fingerprint and the database. Such a body is a 400 problem+json
here, once, for every API endpoint.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask.wrappers import Response

from pelubot_web.api.errors import problem

__all__ = ["MAX_DEPTH", "guard_json_body"]

MAX_DEPTH = 32
MAX_INT_DIGITS = 19  # anything longer is beyond a 64-bit integer anyway


def _unrepresentable(value: Any) -> str | None:
    """Why ``value`` cannot be accepted, or None. Iterative: no recursion on deep input."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"JSON nested deeper than {MAX_DEPTH} levels."
        if isinstance(item, dict):
            stack.extend((k, depth) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "A string contains a lone UTF-16 surrogate (not valid Unicode)."
        elif isinstance(item, int) and abs(item) >= 10**MAX_INT_DIGITS:
            return "An integer is too large."
    return None


def guard_json_body() -> Response | None:
    """``before_request`` for API blueprints (after the 415 check)."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.is_json:
        return None
    reason: str | None
    try:
        # Cached by Flask: webargs and the views reuse this parse.
        payload = request.get_json(silent=True)
    except RecursionError:
        payload, reason = None, f"JSON nested deeper than {MAX_DEPTH} levels."
    else:
        if payload is None and request.get_data():
            return problem(400, detail="The request body is not valid JSON.")
        reason = _unrepresentable(payload)
    if reason is None:
        return None
    return problem(400, detail=reason)
