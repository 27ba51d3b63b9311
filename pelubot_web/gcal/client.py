"""Calendar API client factory and the gateway the sync tasks talk to.

Both backends, real Google and the emulator, go through the same
google-api-python-client code: only the base URL and the HTTP object differ.
The library never retries (``execute()`` keeps ``num_retries=0``); retries
belong to the outbox, whose backoff survives restarts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import google_auth_httplib2
import httplib2
from google.auth.exceptions import GoogleAuthError
from google.oauth2 import service_account
from googleapiclient.discovery import Resource, build
from googleapiclient.errors import HttpError

from .errors import (
    CalendarDisabled,
    CalendarNotFound,
    GoogleCalendarError,
    SyncTokenExpired,
    classify,
)

__all__ = [
    "BACKENDS",
    "CALENDAR_SCOPE",
    "CalendarGateway",
    "build_calendar_service",
    "emulator_api_endpoint",
]

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
BACKENDS = ("google", "emulator", "disabled")

# What a failed call can raise, as opposed to a programming error.
_CALL_ERRORS = (HttpError, httplib2.HttpLib2Error, OSError, GoogleAuthError)


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


def build_calendar_service(
    backend: str,
    *,
    credentials_file: str | None,
    emulator_url: str | None,
    timeout: float = 10.0,
) -> Resource:
    """Build a Calendar v3 ``Resource`` without touching the network.

    The discovery document ships with the library (``static_discovery=True``),
    so building never fetches it; the service account token is fetched lazily
    on the first call.
    """
    if backend == "disabled":
        raise CalendarDisabled("Google Calendar sync is disabled (PELUBOT_GCAL_BACKEND=disabled)")
    if backend == "google":
        if not credentials_file:
            raise ValueError("the 'google' backend needs a service account credentials file")
        # google-auth leaves this classmethod unannotated; give it a type once.
        from_file: Callable[..., service_account.Credentials] = (
            service_account.Credentials.from_service_account_file
        )
        credentials = from_file(credentials_file, scopes=[CALENDAR_SCOPE])
        http: httplib2.Http | google_auth_httplib2.AuthorizedHttp = (
            google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout))
        )
        options: dict[str, str] | None = None
    elif backend == "emulator":
        if not emulator_url:
            raise ValueError("the 'emulator' backend needs an emulator URL")
        http = httplib2.Http(timeout=timeout)
        options = {"api_endpoint": emulator_api_endpoint(emulator_url)}
    else:
        raise ValueError(f"unknown Google Calendar backend {backend!r}; expected one of {BACKENDS}")
    return build(
        "calendar",
        "v3",
        http=http,
        client_options=options,
        static_discovery=True,
        cache_discovery=False,
    )


@contextmanager
def _classified() -> Iterator[None]:
    try:
        yield
    except GoogleCalendarError:
        raise
    except _CALL_ERRORS as exc:
        raise classify(exc) from exc


def _status(exc: HttpError) -> int:
    return int(exc.resp.status)


class CalendarGateway:
    """The handful of Calendar operations PeluBot needs, with errors classified.

    Every method raises ``GoogleCalendarError`` (or a subclass) on failure. Not
    thread-safe: the underlying ``httplib2.Http`` is not, so use one gateway per
    thread or process.
    """

    def __init__(
        self,
        service: Resource,
        *,
        page_size: int = 250,
        full_sync_lookback: timedelta = timedelta(days=1),
    ) -> None:
        self._events = service.events()
        self._freebusy = service.freebusy()
        self._page_size = page_size
        self._full_sync_lookback = full_sync_lookback

    def upsert_event(
        self, calendar_id: str, event_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Make the event exist with exactly ``body``; return Google's copy.

        Insert first; 409 means the id is taken, also by a deleted event, so
        update it instead, which also brings a deleted event back to life.
        """
        event = {"status": "confirmed", **body, "id": event_id}
        with _classified():
            try:
                inserted: dict[str, Any] = self._events.insert(
                    calendarId=calendar_id, body=event
                ).execute()
                return inserted
            except HttpError as exc:
                if _status(exc) != 409:
                    raise
            try:
                updated: dict[str, Any] = self._events.update(
                    calendarId=calendar_id, eventId=event_id, body=event
                ).execute()
            except HttpError as exc:
                if _status(exc) != 404:
                    raise
                # Insert said "taken", update says "not here": the id is held by
                # an event Google will not let us reach. Retrying cannot help.
                raise GoogleCalendarError(
                    f"event id {event_id} is taken but not found in {calendar_id}",
                    status=409,
                    reason="duplicate",
                ) from exc
        return updated

    def delete_event(self, calendar_id: str, event_id: str) -> bool:
        """Delete the event; False when it was already gone (404/410)."""
        with _classified():
            try:
                self._events.delete(calendarId=calendar_id, eventId=event_id).execute()
            except HttpError as exc:
                if _status(exc) in (404, 410):
                    return False
                raise
        return True

    def get_event(self, calendar_id: str, event_id: str) -> dict[str, Any] | None:
        """The event, or None if it never existed.

        A deleted event is still returned, with ``status == "cancelled"``.
        """
        with _classified():
            try:
                event: dict[str, Any] = self._events.get(
                    calendarId=calendar_id, eventId=event_id
                ).execute()
            except HttpError as exc:
                if _status(exc) in (404, 410):
                    return None
                raise
        return event

    def access_role(self, calendar_id: str) -> str:
        """Our role on the calendar (``owner``, ``writer``, ``reader``, ``freeBusyReader``).

        One cheap ``events.list`` call: Google answers it with ``accessRole``; a calendar
        that is not shared with us fails with 404 (classified as ``CalendarNotFound``).
        """
        with _classified():
            page: dict[str, Any] = self._events.list(calendarId=calendar_id, maxResults=1).execute()
        return str(page.get("accessRole", "unknown"))

    def list_changes(
        self, calendar_id: str, sync_token: str | None
    ) -> tuple[list[dict[str, Any]], str]:
        """Events changed since ``sync_token`` and the token for next time.

        Without a token this is a full sync of live events ending after
        ``now - full_sync_lookback``. With a token, deleted events come back
        with ``status == "cancelled"``. Raises ``SyncTokenExpired`` on 410.
        """
        params: dict[str, Any] = {
            "calendarId": calendar_id,
            "singleEvents": True,
            "maxResults": self._page_size,
        }
        if sync_token:
            params.update(syncToken=sync_token, showDeleted=True)
        else:
            since = datetime.now(UTC) - self._full_sync_lookback
            params["timeMin"] = since.isoformat(timespec="seconds")
        items: list[dict[str, Any]] = []
        page_token: str | None = None
        while True:
            with _classified():
                try:
                    page = self._events.list(**params, pageToken=page_token).execute()
                except HttpError as exc:
                    if _status(exc) == 410:
                        err = classify(exc)
                        raise SyncTokenExpired(
                            err.message, status=410, reason=err.reason, retryable=False
                        ) from exc
                    raise
            items.extend(page.get("items", []))
            page_token = page.get("nextPageToken")
            if page_token:
                continue
            next_sync_token = page.get("nextSyncToken")
            if not next_sync_token:
                raise GoogleCalendarError(
                    "events.list returned neither nextPageToken nor nextSyncToken",
                    reason="noSyncToken",
                )
            return items, next_sync_token

    def free_busy(
        self, calendar_ids: Sequence[str], time_min: datetime, time_max: datetime
    ) -> dict[str, list[tuple[datetime, datetime]]]:
        """Busy intervals per calendar in ``[time_min, time_max)``, as aware datetimes."""
        if time_min.tzinfo is None or time_max.tzinfo is None:
            raise ValueError("free_busy needs timezone-aware datetimes")
        body = {
            "timeMin": time_min.isoformat(),
            "timeMax": time_max.isoformat(),
            "items": [{"id": calendar_id} for calendar_id in calendar_ids],
        }
        with _classified():
            answer: dict[str, Any] = self._freebusy.query(body=body).execute()
        busy: dict[str, list[tuple[datetime, datetime]]] = {}
        for calendar_id in calendar_ids:
            entry = answer.get("calendars", {}).get(calendar_id, {})
            errors = entry.get("errors") or []
            if errors:
                reason = errors[0].get("reason")
                kind = CalendarNotFound if reason == "notFound" else GoogleCalendarError
                raise kind(f"freeBusy failed for {calendar_id}: {reason}", reason=reason)
            busy[calendar_id] = [
                (
                    datetime.fromisoformat(block["start"]),
                    datetime.fromisoformat(block["end"]),
                )
                for block in entry.get("busy", [])
            ]
        return busy
