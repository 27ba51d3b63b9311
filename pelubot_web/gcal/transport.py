"""Building the Calendar v3 client: credentials, backends and the HTTP transport.

Every request gets a **fresh** ``httplib2.Http`` (the ``requestBuilder`` recipe of
google-api-python-client's thread-safety guide). A shared ``Http`` keeps its
keep-alive connection between calls; when RQ's job timeout (SIGALRM) interrupts a
call after the request was sent, the unread answer stays on that connection and
the *next* call reads it: asked for event Y, got X. With one connection per
request an interrupted call can only lose its own answer. The price is a new
TCP/TLS handshake per call, which is small next to Google's own latency and the
outbox's pace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import google_auth_httplib2
import httplib2
from google.oauth2 import service_account
from googleapiclient.discovery import Resource, build
from googleapiclient.http import HttpRequest

from .errors import CalendarDisabled

__all__ = [
    "BACKENDS",
    "CALENDAR_SCOPE",
    "EMULATOR_SUBJECT_HEADER",
    "build_calendar_service",
    "emulator_api_endpoint",
    "service_account_email",
]

# Events only: enough for insert/update/delete/list, and the one scope a Workspace
# admin grants for domain-wide delegation.
CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.events"
BACKENDS = ("google", "emulator", "disabled")

HttpFactory = Callable[[], httplib2.Http | google_auth_httplib2.AuthorizedHttp]
# The emulator has no OAuth: the delegated user a token would carry travels in this header,
# so the emulator can refuse a calendar to a user it is not shared with, as Google does.
EMULATOR_SUBJECT_HEADER = "X-Emulator-Subject"


class _EmulatorHttp(httplib2.Http):  # type: ignore[misc]
    """``httplib2.Http`` for the emulator, acting as ``subject`` (None: the service account)."""

    def __init__(self, subject: str | None, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._subject = subject

    def request(
        self,
        uri: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if self._subject:
            headers = {**(headers or {}), EMULATOR_SUBJECT_HEADER: self._subject}
        return super().request(uri, method, body, headers, *args, **kwargs)


def emulator_api_endpoint(emulator_url: str) -> str:
    """The ``api_endpoint`` client option for an emulator at ``emulator_url``.

    ``api_endpoint`` replaces the discovery document's whole base URL
    (``rootUrl + servicePath`` = ``https://www.googleapis.com/calendar/v3/``),
    not just the host, so it must carry the ``/calendar/v3/`` path itself.
    """
    base = emulator_url.rstrip("/")
    if not base.endswith("/calendar/v3"):
        base += "/calendar/v3"
    return base + "/"


def service_account_email(credentials_file: str | None) -> str | None:
    """The service account's address (what calendars must be shared with), read locally."""
    if not credentials_file:
        return None
    import json

    try:
        with open(credentials_file, encoding="utf-8") as handle:
            email = json.load(handle).get("client_email")
    except (OSError, ValueError, AttributeError):
        return None
    return email if isinstance(email, str) else None


def _credentials(credentials_file: str, subject: str | None) -> service_account.Credentials:
    # google-auth leaves this classmethod unannotated; give it a type once.
    from_file: Callable[..., service_account.Credentials] = (
        service_account.Credentials.from_service_account_file
    )
    credentials = from_file(credentials_file, scopes=[CALENDAR_SCOPE])
    if subject:
        # Domain-wide delegation: act as the stylist's own Workspace account.
        credentials = credentials.with_subject(subject)
    return credentials


def _http_factory(
    backend: str,
    credentials_file: str | None,
    emulator_url: str | None,
    timeout: float,
    subject: str | None,
) -> tuple[HttpFactory, dict[str, str] | None]:
    if backend == "disabled":
        raise CalendarDisabled("Google Calendar sync is disabled (PELUBOT_GCAL_BACKEND=disabled)")
    if backend == "google":
        if not credentials_file:
            raise ValueError("the 'google' backend needs a service account credentials file")
        credentials = _credentials(credentials_file, subject)

        def authorized() -> google_auth_httplib2.AuthorizedHttp:
            # The credentials object (and its cached token) is shared; only sockets are not.
            return google_auth_httplib2.AuthorizedHttp(
                credentials, http=httplib2.Http(timeout=timeout)
            )

        return authorized, None
    if backend == "emulator":
        if not emulator_url:
            raise ValueError("the 'emulator' backend needs an emulator URL")
        return (lambda: _EmulatorHttp(subject, timeout)), {
            "api_endpoint": emulator_api_endpoint(emulator_url)
        }
    raise ValueError(f"unknown Google Calendar backend {backend!r}; expected one of {BACKENDS}")


def build_calendar_service(
    backend: str,
    *,
    credentials_file: str | None,
    emulator_url: str | None,
    timeout: float = 10.0,
    subject: str | None = None,
) -> Resource:
    """Build a Calendar v3 ``Resource`` without touching the network.

    The discovery document ships with the library (``static_discovery=True``), so
    building never fetches it; the service account token is fetched lazily on the
    first call. ``subject`` impersonates that Workspace user (domain-wide delegation; the
    emulator is told in a header).
    """
    new_http, options = _http_factory(backend, credentials_file, emulator_url, timeout, subject)

    def fresh_request(_http: object, *args: Any, **kwargs: Any) -> HttpRequest:
        return HttpRequest(new_http(), *args, **kwargs)

    return build(
        "calendar",
        "v3",
        http=new_http(),
        requestBuilder=fresh_request,
        client_options=options,
        static_discovery=True,
        cache_discovery=False,
    )
