"""Structured logging: one line per event, with the request id or job id in every line.

Secret-bearing URLs (the customer's manage link, ``/book/manage/<token>``) are logged as
their route pattern, never the raw path: the access line uses ``loggable_path()``, Flask's
exception line goes through ``PeluBotFlask.log_exception``, and ``JsonFormatter`` plus the
``werkzeug`` / gunicorn access loggers redact any such path that still slips into a line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType

from flask import Flask, g, request
from flask.wrappers import Response

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
job_id_var: ContextVar[str | None] = ContextVar("job_id", default=None)

access_log = logging.getLogger("pelubot.access")
# Routes whose path carries a secret (a rule argument named ``token``).
SECRET_PATH = re.compile(r"(/book/manage/)[^/?#\s\"']+")
TOKEN_PLACEHOLDER = "<token>"
# Query parameters that carry a customer's name or phone (desk search, API filter).
PERSONAL_QUERY = re.compile(r"([?&](?:q|phone)=)[^&#\s\"']*")
REDACTED = "<redacted>"


def redact_secret_paths(text: str) -> str:
    """``/book/manage/abc...`` -> ``/book/manage/<token>`` anywhere in ``text``, and the
    values of customer search parameters (``?q=Lucía``, ``&phone=...``) hidden."""
    text = SECRET_PATH.sub(rf"\1{TOKEN_PLACEHOLDER}", text)
    return PERSONAL_QUERY.sub(rf"\1{REDACTED}", text)


def loggable_path() -> str:
    """The request path fit for a log line: the route pattern when it carries a token."""
    rule = request.url_rule
    if rule is not None and "token" in rule.arguments:
        return rule.rule
    return redact_secret_paths(request.path)


QUIET_PATHS = frozenset({"/health", "/ready", "/metrics"})

_STD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object; extra= fields are kept, secrets never passed in."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact_secret_paths(record.getMessage()),
        }
        request_id = request_id_var.get()
        if request_id:
            payload["request_id"] = request_id
        job_id = job_id_var.get()
        if job_id:
            payload["job_id"] = job_id
        for key, value in record.__dict__.items():
            if key not in _STD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return redact_secret_paths(json.dumps(payload, default=str, ensure_ascii=False))


class RedactSecretPaths(logging.Filter):
    """For loggers that print raw request lines (werkzeug's dev server)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_secret_paths(record.getMessage())
        record.args = None
        return True


def quiet_alembic(record: logging.LogRecord) -> bool:
    """Keep from Alembic only warnings and the line per migration applied.

    Every ``flask`` command would otherwise start with its plugin set-up and dialect
    notes at INFO ("setup plugin ...", "Context impl ...").
    """
    if not record.name.startswith("alembic") or record.levelno >= logging.WARNING:
        return True
    return record.getMessage().startswith(("Running upgrade", "Running downgrade"))


def configure_logging(level: int = logging.INFO) -> None:
    """Install the JSON formatter on the root logger once (idempotent)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(quiet_alembic)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("werkzeug").addFilter(RedactSecretPaths())


class PeluBotFlask(Flask):
    """Flask whose "Exception on <path>" line never shows a secret path."""

    def log_exception(
        self, exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None]
    ) -> None:
        self.logger.error(f"Exception on {loggable_path()} [{request.method}]", exc_info=exc_info)


def init_app(app: Flask) -> None:
    """Give every request an id (from ``X-Request-ID`` when sane) and echo it back."""

    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        g.request_id = rid
        g.request_id_token = request_id_var.set(rid)
        g.request_started = time.perf_counter()

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-ID"] = rid
        started = g.pop("request_started", None)
        # One access line per request; probes and scrapes only at debug level.
        level = logging.DEBUG if request.path in QUIET_PATHS else logging.INFO
        access_log.log(
            level,
            "request",
            extra={
                "method": request.method,
                "path": loggable_path(),
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            },
        )
        return response

    @app.teardown_request
    def _clear_request_id(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)
