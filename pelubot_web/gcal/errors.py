"""Google Calendar failures as values the sync code can act on.

Everything that can go wrong while talking to Google (an HTTP error answer, a
timeout, a refused connection, a failed token refresh) is turned into one
``GoogleCalendarError`` whose ``retryable`` flag tells the outbox whether to
back off and try again or to give up and mark the job failed.
"""

from __future__ import annotations

import json

import google.auth.exceptions
import httplib2
from googleapiclient.errors import HttpError

__all__ = [
    "CalendarDisabled",
    "CalendarNotFound",
    "GoogleCalendarError",
    "SyncTokenExpired",
    "classify",
    "is_retryable_status",
]

# 403 reasons that mean "slow down", not "you may not". Google's guide asks for
# exponential backoff on all three.
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})

# OSErrors that come from the local file system, not from the network.
_LOCAL_OS_ERRORS = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


class GoogleCalendarError(Exception):
    """A failed Calendar API call, classified for the retry policy."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.retryable = retryable

    def __str__(self) -> str:
        head = " ".join(str(part) for part in (self.status, self.reason) if part is not None)
        return f"{head}: {self.message}" if head else self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, reason={self.reason!r}, "
            f"retryable={self.retryable!r}, message={self.message!r})"
        )


class CalendarNotFound(GoogleCalendarError):
    """HTTP 404 that escaped the gateway: the calendar does not exist or is not shared.

    The gateway turns "event not found" into return values (``None``/``False``),
    so a 404 raised from it points at the calendar id or its sharing settings.
    """


class SyncTokenExpired(GoogleCalendarError):
    """HTTP 410 on an incremental list: drop the token and do a full sync."""


class CalendarDisabled(RuntimeError):
    """The Google backend is configured as ``disabled``; nothing may be synced."""


def classify(exc: BaseException) -> GoogleCalendarError:
    """Turn whatever a Calendar API call raised into a ``GoogleCalendarError``.

    The original exception is not chained here; callers do
    ``raise classify(exc) from exc`` so the traceback keeps it.
    """
    if isinstance(exc, GoogleCalendarError):
        return exc
    if isinstance(exc, HttpError):
        return _from_http_error(exc)
    if isinstance(exc, google.auth.exceptions.GoogleAuthError):
        # Checked before OSError: google.auth has its own OSError subclass.
        return _from_auth_error(exc)
    if isinstance(exc, TimeoutError):  # socket.timeout is an alias since 3.10
        return GoogleCalendarError(
            _text(exc, "request timed out"), reason="timeout", retryable=True
        )
    if isinstance(exc, httplib2.RelativeURIError):
        return GoogleCalendarError(_text(exc, "bad request URI"), reason="transportError")
    if isinstance(exc, httplib2.HttpLib2Error):
        return GoogleCalendarError(
            _text(exc, "transport error"), reason="transportError", retryable=True
        )
    if isinstance(exc, OSError) and not isinstance(exc, _LOCAL_OS_ERRORS):
        # ConnectionError, ssl.SSLError, EHOSTUNREACH and friends.
        return GoogleCalendarError(
            _text(exc, "connection failed"), reason="connectionError", retryable=True
        )
    return GoogleCalendarError(_text(exc, "unexpected error"), reason=type(exc).__name__)


def is_retryable_status(status: int, reason: str | None = None) -> bool:
    """Google's guidance: back off on 408, 429, any 5xx and 403 rate limits."""
    if status in (408, 429) or status >= 500:
        return True
    return status == 403 and reason in RATE_LIMIT_REASONS


def _from_http_error(exc: HttpError) -> GoogleCalendarError:
    status = int(exc.resp.status)
    reason, message = _parse_error_body(exc.content)
    if message is None:
        message = exc.reason or getattr(exc.resp, "reason", None) or f"HTTP {status}"
    retryable = is_retryable_status(status, reason)
    kind: type[GoogleCalendarError] = GoogleCalendarError
    if status == 404:
        kind = CalendarNotFound
    elif status == 410 and reason == "fullSyncRequired":
        kind = SyncTokenExpired
    return kind(message, status=status, reason=reason, retryable=retryable)


def _parse_error_body(content: bytes) -> tuple[str | None, str | None]:
    """Read ``error.errors[0].reason`` and ``error.message`` from Google's JSON body."""
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, None  # an HTML page from a proxy, an empty body...
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, None
    reason: str | None = None
    details = error.get("errors")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        first = details[0].get("reason")
        reason = first if isinstance(first, str) else None
    if reason is None and isinstance(error.get("status"), str):
        reason = error["status"]  # newer error format: {"status": "NOT_FOUND"}
    message = error.get("message")
    return reason, message if isinstance(message, str) and message else None


def _from_auth_error(
    exc: google.auth.exceptions.GoogleAuthError,
) -> GoogleCalendarError:
    transient = (
        google.auth.exceptions.TransportError,
        google.auth.exceptions.TimeoutError,
    )
    retryable = isinstance(exc, transient) or bool(getattr(exc, "retryable", False))
    return GoogleCalendarError(
        _text(exc, "authentication failed"), reason="authError", retryable=retryable
    )


def _text(exc: BaseException, default: str) -> str:
    return str(exc) or f"{type(exc).__name__}: {default}"
