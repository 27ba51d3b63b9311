"""Errors of the JSON API as ``application/problem+json`` (RFC 9457).

Every error under ``/api/`` is a problem document: ``type``, ``title``, ``status``,
``detail``, a stable ``code`` and, for bad input, ``errors`` with one entry per field.
Domain errors are mapped to HTTP here, once. The app-level handlers in
``pelubot_web/errors.py`` call these functions for every path under ``API_PREFIX``.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import current_app, request
from flask.wrappers import Response
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from pelubot_web.extensions import limiter
from pelubot_web.services.errors import Conflict, DomainError, InvalidInput, NotFound

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "FieldErrorSchema",
    "ProblemSchema",
    "problem",
    "problem_for_domain_error",
    "require_json_body",
]

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
DB_RETRY_AFTER_S = 2


class FieldErrorSchema(ma.Schema):
    field = ma.fields.String(
        allow_none=True, metadata={"description": "Dotted path, e.g. customer.phone"}
    )
    location = ma.fields.String(
        allow_none=True, metadata={"description": "json, query, headers or path"}
    )
    message = ma.fields.String(required=True)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation only; ``problem()`` builds the body)."""

    type = ma.fields.String(required=True, metadata={"description": "Problem type URI"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    code = ma.fields.String(metadata={"description": "Stable machine-readable error code"})
    errors = ma.fields.List(ma.fields.Nested(FieldErrorSchema))


def problem(
    status: int,
    title: str | None = None,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    type_: str | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    code: str | None = None,
) -> Response:
    """A problem+json response. ``title`` defaults to the HTTP reason phrase."""
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": type_ or "about:blank",
        "title": title or phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["code"] = code or phrase.lower().replace(" ", "_").replace("-", "_")
    if errors:
        body["errors"] = errors
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _flatten(messages: Any, location: str | None, path: str = "") -> list[dict[str, Any]]:
    """marshmallow/webargs nested messages -> one entry per field with a dotted path."""
    out: list[dict[str, Any]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if key == "_schema":
                out.extend(_flatten(value, location, path))
            else:
                out.extend(_flatten(value, location, f"{path}.{key}" if path else str(key)))
    elif isinstance(messages, list | tuple):
        for item in messages:
            out.extend(_flatten(item, location, path))
    else:
        out.append({"field": path or None, "location": location, "message": str(messages)})
    return out


def validation_errors(messages: Any) -> list[dict[str, Any]]:
    """webargs groups messages by location (json, query, headers, ...)."""
    if not isinstance(messages, Mapping):
        return _flatten(messages, None)
    out: list[dict[str, Any]] = []
    for location, inner in messages.items():
        out.extend(_flatten(inner, str(location)))
    return out


def _retry_after_seconds() -> int:
    current = limiter.current_limit
    if current is None:
        return 1
    return max(1, math.ceil(current.reset_at - time.time()))


def handle_http_exception(exc: HTTPException) -> Any:
    if exc.code is None or exc.code < 400:
        return exc  # redirects keep Flask's handling
    headers: dict[str, str] = {}
    errors = None
    data = getattr(exc, "data", None) or {}
    if isinstance(data, Mapping):
        if "messages" in data:
            errors = validation_errors(data["messages"])
        headers.update(data.get("headers") or {})
    detail = exc.description if exc.description else None
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    if isinstance(exc, RateLimitExceeded):
        headers["Retry-After"] = str(_retry_after_seconds())
        detail = f"Rate limit exceeded ({exc.description}); retry after the Retry-After delay."
    if exc.code == 400 and errors:
        detail = "The request body is not valid JSON."
    elif exc.code == 422:
        detail = "Some values are invalid; see errors."
    return problem(exc.code, detail=detail, errors=errors, headers=headers)


def _status_for(exc: DomainError) -> int:
    if isinstance(exc, NotFound):
        # An unknown id in the URL is 404; one referenced from the body or query is 422.
        return 422 if exc.field else 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, InvalidInput):
        return 422
    return 400


def problem_for_domain_error(exc: DomainError) -> Response:
    status = _status_for(exc)
    errors = None
    if exc.field and status == 422:
        errors = [{"field": exc.field, "location": None, "message": exc.message}]
    return problem(
        status,
        detail=exc.message,
        errors=errors,
        type_=f"urn:pelubot:problem:{exc.code}",
        code=exc.code,
    )


def handle_database_unavailable(exc: OperationalError) -> Response:
    """Lock timeouts and lost connections are temporary: 503 with Retry-After, not 500."""
    log.warning("database unavailable during an API request", extra={"error": str(exc.orig)})
    return problem(
        503,
        detail="The database is busy or unreachable; retry shortly.",
        headers={"Retry-After": str(DB_RETRY_AFTER_S)},
    )


def handle_internal_error(exc: HTTPException) -> Response:
    original = getattr(exc, "original_exception", None)
    if original is not None:
        log.error("unhandled error in an API request", exc_info=original)
    return problem(500, detail="Something went wrong on our side; it has been logged.")


def require_json_body() -> Response | None:
    """``before_request`` for API blueprints: a body must be JSON (415 otherwise)."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    has_body = bool(request.content_length) or "chunked" in (
        request.headers.get("Transfer-Encoding", "").lower()
    )
    if has_body and not request.is_json:
        return problem(
            415,
            detail="Send the body as application/json.",
            headers={"Accept-Post": "application/json"},
        )
    return None
