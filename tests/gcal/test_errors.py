"""classify() decides what the outbox retries; these are the cases it must get right."""

from __future__ import annotations

import json

import google.auth.exceptions
import httplib2
import pytest
from googleapiclient.errors import HttpError

from pelubot_web.gcal.errors import (
    CalendarNotFound,
    GoogleCalendarError,
    SyncTokenExpired,
    classify,
)


def google_http_error(status: int, reason: str | None, message: str = "boom") -> HttpError:
    """An HttpError exactly as the client library builds it from Google's answer."""
    body: dict[str, object] = {"code": status, "message": message}
    if reason is not None:
        body["errors"] = [{"domain": "global", "reason": reason, "message": message}]
    content = json.dumps({"error": body}).encode()
    return HttpError(httplib2.Response({"status": status}), content, uri="https://x/events")


@pytest.mark.parametrize(
    ("status", "reason", "retryable"),
    [
        (429, "rateLimitExceeded", True),
        (500, "backendError", True),
        (502, None, True),
        (503, "backendError", True),
        (408, None, True),
        (403, "rateLimitExceeded", True),
        (403, "userRateLimitExceeded", True),
        (403, "forbidden", False),
        (403, "requiredAccessLevel", False),
        (400, "invalid", False),
        (401, "authError", False),
        (404, "notFound", False),
        (409, "duplicate", False),
        (410, "deleted", False),
    ],
)
def test_http_errors_are_retryable_only_when_google_says_back_off(
    status: int, reason: str | None, retryable: bool
) -> None:
    error = classify(google_http_error(status, reason, message="Something happened"))

    assert error.status == status
    assert error.reason == reason
    assert error.retryable is retryable
    assert error.message == "Something happened"


def test_404_means_the_calendar_is_missing() -> None:
    assert isinstance(classify(google_http_error(404, "notFound")), CalendarNotFound)


def test_410_full_sync_required_is_an_expired_sync_token() -> None:
    error = classify(google_http_error(410, "fullSyncRequired"))

    assert isinstance(error, SyncTokenExpired)
    assert not error.retryable


def test_410_deleted_is_not_a_sync_token_problem() -> None:
    assert not isinstance(classify(google_http_error(410, "deleted")), SyncTokenExpired)


def test_a_non_json_error_page_still_gets_status_and_message() -> None:
    resp = httplib2.Response({"status": 502})
    resp.reason = "Bad Gateway"
    error = classify(HttpError(resp, b"<html>proxy says no</html>", uri="https://x"))

    assert (error.status, error.reason, error.retryable) == (502, None, True)
    assert error.message == "Bad Gateway"


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (TimeoutError("timed out"), "timeout"),
        (ConnectionRefusedError(111, "Connection refused"), "connectionError"),
        (ConnectionResetError(104, "Connection reset by peer"), "connectionError"),
        (OSError(113, "No route to host"), "connectionError"),
        (httplib2.ServerNotFoundError("Unable to find the server"), "transportError"),
        (google.auth.exceptions.TransportError("token endpoint unreachable"), "authError"),
    ],
)
def test_network_failures_are_retryable(exc: BaseException, reason: str) -> None:
    error = classify(exc)

    assert error.retryable
    assert error.reason == reason
    assert error.status is None


@pytest.mark.parametrize(
    "exc",
    [
        google.auth.exceptions.RefreshError("invalid_grant: account deleted"),
        FileNotFoundError(2, "No such file", "/secrets/sa.json"),
        httplib2.RelativeURIError("Only absolute URIs are allowed"),
        ValueError("a bug"),
    ],
)
def test_configuration_and_programming_errors_are_permanent(exc: BaseException) -> None:
    error = classify(exc)

    assert not error.retryable
    assert error.message


def test_classify_keeps_an_already_classified_error() -> None:
    original = GoogleCalendarError("x", status=503, reason="backendError", retryable=True)

    assert classify(original) is original


def test_str_shows_status_reason_and_message() -> None:
    error = GoogleCalendarError("Rate Limit Exceeded", status=403, reason="rateLimitExceeded")

    assert str(error) == "403 rateLimitExceeded: Rate Limit Exceeded"
