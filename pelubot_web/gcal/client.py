"""The gateway the sync tasks talk to: the few Calendar operations PeluBot needs.

Both backends, real Google and the emulator, go through the same
google-api-python-client code (built in ``transport.py``). The library never
retries (``execute()`` keeps ``num_retries=0``); retries belong to the outbox,
whose backoff survives restarts. Every call passes through ``CallHooks`` (the
shared rate limiter and the call-duration histogram live outside this package).
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httplib2
from google.auth.exceptions import GoogleAuthError
from googleapiclient.discovery import Resource
from googleapiclient.errors import HttpError

from .errors import (
    CalendarNotFound,
    CalendarReadOnly,
    EventIdUnusable,
    GoogleCalendarError,
    SyncTokenExpired,
    classify,
)
from .transport import BACKENDS, CALENDAR_SCOPE, build_calendar_service, emulator_api_endpoint

__all__ = [
    "BACKENDS",
    "CALENDAR_SCOPE",
    "CalendarGateway",
    "CallHooks",
    "ChangePage",
    "build_calendar_service",
    "emulator_api_endpoint",
]

# What a failed call can raise, as opposed to a programming error.
_CALL_ERRORS = (
    HttpError,
    httplib2.HttpLib2Error,
    http.client.HTTPException,  # IncompleteRead: a body cut short
    OSError,
    GoogleAuthError,
)
_GONE = (404, 410)


class CallHooks(Protocol):
    """What happens around every Calendar call (rate limiting, metrics)."""

    def before(self, method: str) -> None: ...

    def after(self, method: str, seconds: float, outcome: str) -> None: ...


class _NoHooks:
    def before(self, method: str) -> None:
        return None

    def after(self, method: str, seconds: float, outcome: str) -> None:
        return None


@dataclass(frozen=True)
class ChangePage:
    """One page of ``events.list``; ``next_sync_token`` is set on the last page only."""

    items: list[dict[str, Any]]
    time_zone: str | None
    next_sync_token: str | None


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

    Every method raises ``GoogleCalendarError`` (or a subclass) on failure. Each
    request opens its own connection (see ``transport.py``), so one gateway may be
    shared; ``principal`` (the service account or delegated user) is named in
    "calendar not shared" errors so the operator knows whom to share it with.
    """

    def __init__(
        self,
        service: Resource,
        *,
        page_size: int = 250,
        full_sync_lookback: timedelta = timedelta(days=1),
        principal: str | None = None,
        hooks: CallHooks | None = None,
    ) -> None:
        self._events = service.events()
        self._freebusy = service.freebusy()
        self._page_size = page_size
        self._full_sync_lookback = full_sync_lookback
        self._principal = principal or "the PeluBot service account"
        self._hooks: CallHooks = hooks or _NoHooks()

    def _execute(self, method: str, request: Any) -> Any:
        """Run one API request through the hooks; raw errors propagate to the caller."""
        self._hooks.before(method)
        started = time.monotonic()
        outcome = "ok"
        try:
            return request.execute()
        except HttpError as exc:
            outcome = str(_status(exc))
            raise
        except BaseException:
            outcome = "error"
            raise
        finally:
            self._hooks.after(method, time.monotonic() - started, outcome)

    # -- calendars -----------------------------------------------------------------

    def check_calendar(self, calendar_id: str) -> str | None:
        """Raise ``CalendarNotFound`` unless this calendar is reachable; return its time zone."""
        zone = self._probe_calendar(calendar_id).get("timeZone")
        return zone if isinstance(zone, str) else None

    def access_role(self, calendar_id: str) -> str:
        """Our role on the calendar (``owner``, ``writer``, ``reader``, ``freeBusyReader``)."""
        return str(self._probe_calendar(calendar_id).get("accessRole", "unknown"))

    def _probe_calendar(self, calendar_id: str) -> dict[str, Any]:
        """A one-item ``events.list``, answered with the calendar's zone and our role.

        It needs only the ``calendar.events`` scope (unlike ``calendars.get``), so it
        works with domain-wide delegation too; a calendar that is gone or not shared
        with us raises ``CalendarNotFound``.
        """
        with _classified():
            try:
                page: dict[str, Any] = self._execute(
                    "list", self._events.list(calendarId=calendar_id, maxResults=1)
                )
            except HttpError as exc:
                if _status(exc) in _GONE:
                    raise self._not_found(calendar_id) from exc
                raise
        return page

    def _not_found(self, calendar_id: str) -> CalendarNotFound:
        return CalendarNotFound(
            f"calendar {calendar_id} not found or not shared with {self._principal}",
            status=404,
            reason="calendarNotFound",
        )

    def _translate_write_error(self, exc: HttpError, calendar_id: str) -> GoogleCalendarError:
        err = classify(exc)
        if err.status == 403 and err.reason in ("requiredAccessLevel", "forbidden"):
            return CalendarReadOnly(
                f"calendar {calendar_id} is shared read-only with {self._principal}; "
                "it needs 'Make changes to events'",
                status=403,
                reason=err.reason,
            )
        return err

    # -- events ----------------------------------------------------------------------

    def upsert_event(
        self,
        calendar_id: str,
        event_id: str,
        body: Mapping[str, Any],
        *,
        known: bool = False,
    ) -> dict[str, Any]:
        """Make the event exist with exactly ``body``; return Google's copy.

        ``known``: PeluBot already wrote this event, so update it directly (one call).
        Otherwise insert; 409 means the id is taken, also by a deleted event, so update
        it instead, which also brings a deleted event back to life. When the id is
        taken but cannot be updated (Google purged the cancelled event and keeps its id
        forever) ``EventIdUnusable`` tells the caller to move to a new id.
        """
        event = {"status": "confirmed", **body, "id": event_id}
        with _classified():
            if known:
                updated = self._update(calendar_id, event_id, event)
                if updated is not None:
                    return updated
            try:
                inserted: dict[str, Any] = self._execute(
                    "insert", self._events.insert(calendarId=calendar_id, body=event)
                )
                return inserted
            except HttpError as exc:
                if _status(exc) == 404:
                    raise self._not_found(calendar_id) from exc
                if _status(exc) != 409:
                    raise self._translate_write_error(exc, calendar_id) from exc
            updated = None if known else self._update(calendar_id, event_id, event)
            if updated is not None:
                return updated
        self.check_calendar(calendar_id)
        raise EventIdUnusable(
            f"event id {event_id} is taken in {calendar_id} but cannot be updated (purged)",
            status=409,
            reason="duplicate",
        )

    def _update(
        self, calendar_id: str, event_id: str, event: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """Update; None when Google says the event is not there (404/410)."""
        try:
            updated: dict[str, Any] = self._execute(
                "update",
                self._events.update(calendarId=calendar_id, eventId=event_id, body=event),
            )
        except HttpError as exc:
            if _status(exc) in _GONE:
                return None
            raise self._translate_write_error(exc, calendar_id) from exc
        return updated

    def delete_event(self, calendar_id: str, event_id: str) -> bool:
        """Delete the event; False when it was already gone (404/410).

        A 404 can also mean the *calendar* is gone or no longer shared: then the event
        is orphaned, not deleted, so that case raises ``CalendarNotFound``.
        """
        with _classified():
            try:
                self._execute(
                    "delete", self._events.delete(calendarId=calendar_id, eventId=event_id)
                )
            except HttpError as exc:
                if _status(exc) not in _GONE:
                    raise self._translate_write_error(exc, calendar_id) from exc
            else:
                return True
        self.check_calendar(calendar_id)
        return False

    def get_event(self, calendar_id: str, event_id: str) -> dict[str, Any] | None:
        """The event, or None if it never existed.

        A deleted event is still returned, with ``status == "cancelled"``.
        """
        with _classified():
            try:
                event: dict[str, Any] = self._execute(
                    "get", self._events.get(calendarId=calendar_id, eventId=event_id)
                )
            except HttpError as exc:
                if _status(exc) in _GONE:
                    return None
                raise
        return event

    def iter_changes(
        self, calendar_id: str, sync_token: str | None, *, time_max: datetime | None = None
    ) -> Iterator[ChangePage]:
        """Pages of events changed since ``sync_token``, as they arrive.

        Without a token this is a full sync of live events in
        ``[now - full_sync_lookback, time_max)``, recurring events expanded. With a
        token the filters must be left out (Google refuses ``timeMin``/``timeMax``
        with ``syncToken``) and deleted events come back with ``status ==
        "cancelled"``. Raises ``SyncTokenExpired`` on 410.
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
            if time_max is not None:
                params["timeMax"] = time_max.astimezone(UTC).isoformat(timespec="seconds")
        page_token: str | None = None
        while True:
            page = self._list_page(params, page_token)
            page_token = page.get("nextPageToken")
            next_sync_token = None if page_token else page.get("nextSyncToken")
            if not page_token and not next_sync_token:
                raise GoogleCalendarError(
                    "events.list returned neither nextPageToken nor nextSyncToken",
                    reason="noSyncToken",
                )
            yield ChangePage(page.get("items", []), page.get("timeZone"), next_sync_token)
            if not page_token:
                return

    def _list_page(self, params: Mapping[str, Any], page_token: str | None) -> dict[str, Any]:
        with _classified():
            try:
                page: dict[str, Any] = self._execute(
                    "list", self._events.list(**params, pageToken=page_token)
                )
            except HttpError as exc:
                status = _status(exc)
                if status == 410:
                    err = classify(exc)
                    raise SyncTokenExpired(
                        err.message, status=410, reason=err.reason, retryable=False
                    ) from exc
                if status == 404:
                    raise self._not_found(str(params["calendarId"])) from exc
                raise
        return page

    def list_changes(
        self, calendar_id: str, sync_token: str | None, *, time_max: datetime | None = None
    ) -> tuple[list[dict[str, Any]], str]:
        """All pages of ``iter_changes`` at once (small calendars, tests)."""
        items: list[dict[str, Any]] = []
        token = ""
        for page in self.iter_changes(calendar_id, sync_token, time_max=time_max):
            items.extend(page.items)
            token = page.next_sync_token or token
        return items, token

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
            answer: dict[str, Any] = self._execute("freebusy", self._freebusy.query(body=body))
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
