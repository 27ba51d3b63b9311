"""Google Calendar failures as values the sync code can act on.

Everything that can go wrong while talking to Google (an HTTP error answer, a
timeout, a refused connection, a failed token refresh) is turned into one
``GoogleCalendarError`` whose ``retryable`` flag tells the outbox whether to
back off and try again or to give up and mark the job failed.
"""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import google.auth.exceptions
import httplib2
from googleapiclient.errors import HttpError

__all__ = [
    "CalendarDisabled",
    "CalendarNotFound",
    "CalendarReadOnly",
    "CalendarUnavailable",
    "EventIdUnusable",
    "GoogleCalendarError",
    "SyncTokenExpired",
    "classify",
    "is_retryable_status",
]

# 403 reasons that mean "slow down", not "you may not". Google's guide asks for
# exponential backoff on all of them.
RATE_LIMIT_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"}
)
# Of those, the ones that last minutes to hours (Calendar usage limits, the daily
# project quota): short retries only burn the attempt budget.
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded", "RESOURCE_EXHAUSTED"})

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
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.retryable = retryable
        # Google's Retry-After header, when it sent one: wait at least this long.
        self.retry_after_s = retry_after_s

    @property
    def is_quota(self) -> bool:
        """A usage limit that lasts minutes to hours, not a short rate spike."""
        return self.reason in QUOTA_REASONS

    def __str__(self) -> str:
        head = " ".join(str(part) for part in (self.status, self.reason) if part is not None)
        return f"{head}: {self.message}" if head else self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, reason={self.reason!r}, "
            f"retryable={self.retryable!r}, message={self.message!r})"
        )


class CalendarUnavailable(GoogleCalendarError):
    """The stylist's calendar cannot be used: an operator must act (share it, fix the id)."""


class CalendarNotFound(CalendarUnavailable):
    """HTTP 404 that escaped the gateway: the calendar does not exist or is not shared.

    The gateway turns "event not found" into return values (``None``/``False``) after
    checking that the calendar itself is still there, so a 404 raised from it points
    at the calendar id or its sharing settings.
    """


class CalendarReadOnly(CalendarUnavailable):
    """HTTP 403 on a write: the calendar is shared without "Make changes to events"."""


class EventIdUnusable(GoogleCalendarError):
    """The event id is held by an event Google purged: it can never be used again."""


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
    if isinstance(exc, httplib2.HttpLib2Error | http.client.HTTPException):
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
    return kind(
        message,
        status=status,
        reason=reason,
        retryable=retryable,
        retry_after_s=_retry_after(exc.resp),
    )


def _retry_after(resp: object) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), if present and sane."""
    getter = getattr(resp, "get", None)
    raw = getter("retry-after") if callable(getter) else None
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(str(raw))
        except (TypeError, ValueError):
            return None
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), 24 * 3600.0)


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
    if reason is None:
        reason = _rpc_reason(error)
    message = error.get("message")
    return reason, message if isinstance(message, str) and message else None


def _rpc_reason(error: dict[str, object]) -> str | None:
    """The newer error format: ``details[].reason`` of an ErrorInfo, else ``status``."""
    details = error.get("details")
    if isinstance(details, list):
        for detail in details:
            if isinstance(detail, dict) and isinstance(detail.get("reason"), str):
                return str(detail["reason"])
    status = error.get("status")
    return status if isinstance(status, str) else None


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
