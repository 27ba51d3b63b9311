"""In-memory calendars for the emulator: the Calendar v3 rules, no HTTP.

Behaviour follows Google where PeluBot depends on it: client-chosen ids in
base32hex, 409 ``duplicate`` even when the id belongs to a deleted event,
deleted events kept as ``status: "cancelled"`` (``get`` still returns them,
a second ``delete`` answers 410), incremental sync tokens and 410
``fullSyncRequired`` when a token is no longer valid.

Stricter than a toy on purpose, so passing against it means passing against Google:
a calendar exists only once registered (``register_calendar``; others answer 404,
as an unshared calendar does), a read-only one refuses writes with 403
``requiredAccessLevel``, purged cancelled events keep their id forever (insert 409,
update 404), every parameter Google refuses next to ``syncToken`` is refused,
``singleEvents`` expands simple RRULEs, and all-day dates follow the calendar's time
zone.
"""

from __future__ import annotations

import base64
import copy
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .api_errors import ApiError
from .query import (
    ACCESS_ROLES,
    CalendarInfo,
    ListQuery,
    check_list_query,
    decode_token,
    encode_token,
    listed,
    matches,
    shown,
    sort_key,
)
from .times import event_span, format_rfc3339, parse_rfc3339

__all__ = ["ACCESS_ROLES", "CalendarInfo", "CalendarStore", "ListQuery"]

Event = dict[str, Any]

EVENT_ID_RE = re.compile(r"^[0-9a-v]{5,1024}$")
STATUSES = ("confirmed", "tentative", "cancelled")
# Fields the server owns; values sent by a client are ignored.
SERVER_FIELDS = frozenset(
    {"kind", "etag", "htmlLink", "created", "updated", "creator", "organizer", "iCalUID"}
)


# Every events.list parameter Google refuses to combine with a sync token.
@dataclass
class _Entry:
    event: Event
    changed: int  # store-wide change number of the last write


def _merge(base: Mapping[str, Any], patch: Mapping[str, Any]) -> Event:
    """Patch semantics: objects merge, arrays and scalars replace, null clears."""
    merged = dict(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _client_sequence(body: Mapping[str, Any]) -> int:
    value = body.get("sequence")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _new_event_id() -> str:
    return base64.b32hexencode(uuid.uuid4().bytes).decode().rstrip("=").lower()


class CalendarStore:
    """Thread-safe: every public method holds one lock for its whole run."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._lock = threading.RLock()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._calendars: dict[str, dict[str, _Entry]] = {}
        self._registry: dict[str, CalendarInfo] = {}
        self._purged: dict[str, set[str]] = {}  # ids Google keeps forever
        self._changes = 0  # never goes back, so etags stay unique across resets
        self._epoch = secrets.token_hex(4)  # sync tokens of an older epoch are invalid

    def reset(self) -> None:
        with self._lock:
            self._calendars.clear()
            self._registry.clear()
            self._purged.clear()
            self._epoch = secrets.token_hex(4)

    # -- calendars ---------------------------------------------------------------

    def register_calendar(
        self,
        calendar_id: str,
        *,
        time_zone: str = "UTC",
        access: str = "owner",
        shared_with: tuple[str, ...] = (),
    ) -> CalendarInfo:
        """Make a calendar exist, shared with the service account or, with
        ``shared_with``, only with those (delegated) users."""
        if not calendar_id:
            raise ApiError(400, "required", "Missing calendar id.")
        if access not in ACCESS_ROLES:
            raise ApiError(400, "invalid", f"access must be one of {', '.join(ACCESS_ROLES)}")
        try:
            ZoneInfo(time_zone)
        except (ValueError, KeyError):
            raise ApiError(400, "invalid", "Invalid time zone.") from None
        info = CalendarInfo(calendar_id, time_zone, access, tuple(shared_with))
        with self._lock:
            self._registry[calendar_id] = info
            self._calendars.setdefault(calendar_id, {})
        return info

    def unregister_calendar(self, calendar_id: str) -> None:
        """Unshare (or delete) a calendar: its events stay but every call answers 404."""
        with self._lock:
            self._registry.pop(calendar_id, None)

    def calendars(self) -> list[CalendarInfo]:
        with self._lock:
            return sorted(self._registry.values(), key=lambda info: info.id)

    def calendar(self, calendar_id: str, subject: str | None = None) -> CalendarInfo:
        """The calendar as ``subject`` (None: the service account) sees it; 404 when it
        does not exist or is not shared with them (Google does not say which)."""
        with self._lock:
            info = self._registry.get(calendar_id)
        if info is None or not info.visible_to(subject):
            raise ApiError(404, "notFound")
        return info

    def shared_with(self, calendar_id: str, subject: str | None) -> bool:
        """False only for a calendar shared with other users than ``subject`` (a
        calendar that does not exist answers 404 from the call itself)."""
        with self._lock:
            info = self._registry.get(calendar_id)
        return info is None or info.visible_to(subject)

    def purge_cancelled(self) -> int:
        """Forget deleted events as Google eventually does; their ids stay taken."""
        with self._lock:
            purged = 0
            for calendar_id, events in self._calendars.items():
                gone = [
                    eid for eid, entry in events.items() if entry.event["status"] == "cancelled"
                ]
                for event_id in gone:
                    del events[event_id]
                    self._purged.setdefault(calendar_id, set()).add(event_id)
                purged += len(gone)
            return purged

    def invalidate_sync_tokens(self) -> None:
        with self._lock:
            self._epoch = secrets.token_hex(4)

    # -- events ---------------------------------------------------------------

    def insert(self, calendar_id: str, body: Mapping[str, Any]) -> Event:
        event_id = str(body.get("id") or _new_event_id())
        if not EVENT_ID_RE.match(event_id):
            raise ApiError(400, "invalid", "Invalid resource id value.")
        with self._lock:
            events = self._writable(calendar_id)
            if event_id in events or event_id in self._purged.get(calendar_id, ()):
                raise ApiError(409, "duplicate")  # also a deleted or purged event's id
            now = self._clock()
            event = self._build(calendar_id, event_id, body, created=now, sequence=0)
            return self._write(events, event, now)

    def get(self, calendar_id: str, event_id: str) -> Event:
        with self._lock:
            return copy.deepcopy(self._existing(calendar_id, event_id).event)

    def update(self, calendar_id: str, event_id: str, body: Mapping[str, Any]) -> Event:
        """Full replacement; a deleted event comes back (status defaults to confirmed)."""
        with self._lock:
            self._writable(calendar_id)
            old = self._existing(calendar_id, event_id).event
            return self._replace(calendar_id, old, dict(body))

    def patch(self, calendar_id: str, event_id: str, body: Mapping[str, Any]) -> Event:
        with self._lock:
            self._writable(calendar_id)
            old = self._existing(calendar_id, event_id).event
            return self._replace(calendar_id, old, _merge(old, body))

    def delete(self, calendar_id: str, event_id: str) -> None:
        with self._lock:
            self._writable(calendar_id)
            entry = self._existing(calendar_id, event_id)
            if entry.event["status"] == "cancelled":
                raise ApiError(410, "deleted")
            event = copy.deepcopy(entry.event)
            event["status"] = "cancelled"
            self._write(self._events(calendar_id), event, self._clock())

    def list_events(self, calendar_id: str, query: ListQuery) -> dict[str, Any]:
        check_list_query(query)
        with self._lock:
            info = self.calendar(calendar_id)
            since = self._sync_point(calendar_id, query.sync_token) if query.sync_token else None
            cursor = self._page_cursor(query.page_token) if query.page_token else None
            snapshot = cursor["s"] if cursor else self._changes
            items = self._candidates(calendar_id, query, since, info)
            key = sort_key(query.order_by, info)
            items.sort(key=key)
            if cursor:
                items = [event for event in items if key(event) > tuple(cursor["a"])]
            page = items[: query.max_results]
            answer: dict[str, Any] = {
                "kind": "calendar#events",
                "etag": f'"{self._changes}"',
                "summary": calendar_id,
                "updated": format_rfc3339(self._clock()),
                "timeZone": info.time_zone,
                "accessRole": info.access,
                "defaultReminders": [],
                "items": [listed(event, query.show_deleted) for event in page],
            }
            if len(items) > len(page):
                answer["nextPageToken"] = encode_token({"a": list(key(page[-1])), "s": snapshot})
            else:
                token = {"e": self._epoch, "c": calendar_id, "n": snapshot}
                answer["nextSyncToken"] = encode_token(token)
            return answer

    def _candidates(
        self, calendar_id: str, query: ListQuery, since: int | None, info: CalendarInfo
    ) -> list[Event]:
        entries = list(self._events(calendar_id).values())
        if since is not None:
            # Incremental: every change, deletions included, whatever the filters.
            return [
                event
                for entry in entries
                if entry.changed > since
                for event in shown(entry.event, query, info)
            ]
        return [
            event
            for entry in entries
            for event in shown(entry.event, query, info)
            if matches(event, query, info)
        ]

    def free_busy(self, body: Mapping[str, Any]) -> dict[str, Any]:
        time_min = parse_rfc3339(body.get("timeMin"), "timeMin")
        time_max = parse_rfc3339(body.get("timeMax"), "timeMax")
        if time_min >= time_max:
            raise ApiError(400, "timeRangeEmpty")
        items = body.get("items") or []
        calendars: dict[str, Any] = {}
        with self._lock:
            for item in items:
                calendar_id = str(item.get("id", "")) if isinstance(item, Mapping) else ""
                if calendar_id not in self._registry:
                    calendars[calendar_id] = {
                        "errors": [{"domain": "global", "reason": "notFound"}],
                        "busy": [],
                    }
                    continue
                spans = [
                    (max(start, time_min), min(end, time_max))
                    for start, end in self._busy_spans(calendar_id)
                    if start < time_max and end > time_min
                ]
                calendars[calendar_id] = {
                    "busy": [
                        {"start": format_rfc3339(start), "end": format_rfc3339(end)}
                        for start, end in _merged(spans)
                    ]
                }
        return {
            "kind": "calendar#freeBusy",
            "timeMin": format_rfc3339(time_min),
            "timeMax": format_rfc3339(time_max),
            "calendars": calendars,
        }

    def live_events(self, calendar_id: str | None = None) -> list[Event]:
        """Every non-cancelled event, each tagged with its ``calendarId``."""
        with self._lock:
            found = [
                {**copy.deepcopy(entry.event), "calendarId": cal_id}
                for cal_id, events in self._calendars.items()
                if calendar_id is None or cal_id == calendar_id
                for entry in events.values()
                if entry.event["status"] != "cancelled"
            ]
        return sorted(found, key=lambda event: (event["calendarId"], event["id"]))

    # -- internals (callers hold the lock) -------------------------------------

    def _events(self, calendar_id: str) -> dict[str, _Entry]:
        if calendar_id not in self._registry:
            raise ApiError(404, "notFound")  # never created, deleted or not shared with us
        return self._calendars.setdefault(calendar_id, {})

    def _writable(self, calendar_id: str) -> dict[str, _Entry]:
        events = self._events(calendar_id)
        if self._registry[calendar_id].access == "reader":
            raise ApiError(403, "requiredAccessLevel")
        return events

    def _existing(self, calendar_id: str, event_id: str) -> _Entry:
        entry = self._events(calendar_id).get(event_id)
        if entry is None:
            raise ApiError(404, "notFound")
        return entry

    def _replace(self, calendar_id: str, old: Event, body: Mapping[str, Any]) -> Event:
        now = self._clock()
        created = datetime.fromisoformat(old["created"])
        event = self._build(
            calendar_id, old["id"], body, created=created, sequence=old["sequence"] + 1
        )
        event["iCalUID"] = old["iCalUID"]
        return self._write(self._events(calendar_id), event, now)

    def _build(
        self,
        calendar_id: str,
        event_id: str,
        body: Mapping[str, Any],
        *,
        created: datetime,
        sequence: int,
    ) -> Event:
        event: Event = {k: copy.deepcopy(v) for k, v in body.items() if k not in SERVER_FIELDS}
        event.setdefault("status", "confirmed")
        if event["status"] not in STATUSES:
            raise ApiError(400, "invalid", "Invalid value for: status")
        start, end = event_span(event, self._registry[calendar_id].zone)
        if end < start:
            raise ApiError(400, "timeRangeEmpty")
        eid = base64.urlsafe_b64encode(f"{event_id} {calendar_id}".encode()).decode().rstrip("=")
        event.update(
            kind="calendar#event",
            id=event_id,
            htmlLink=f"https://www.google.com/calendar/event?eid={eid}",
            created=format_rfc3339(created),
            creator={"email": calendar_id, "self": True},
            organizer={"email": calendar_id, "self": True},
            iCalUID=str(body.get("iCalUID") or f"{event_id}@google.com"),
            sequence=max(sequence, _client_sequence(body)),
        )
        event.setdefault("reminders", {"useDefault": True})
        event.setdefault("eventType", "default")
        return event

    def _write(self, events: dict[str, _Entry], event: Event, now: datetime) -> Event:
        self._changes += 1
        event["updated"] = format_rfc3339(now)
        event["etag"] = f'"{self._changes}"'
        events[event["id"]] = _Entry(event, self._changes)
        return copy.deepcopy(event)

    def _sync_point(self, calendar_id: str, token: str) -> int:
        data = decode_token(token) or {}
        point = data.get("n")
        stale = data.get("e") != self._epoch or data.get("c") != calendar_id
        if stale or not isinstance(point, int) or point > self._changes:
            raise ApiError(410, "fullSyncRequired")
        return point

    def _page_cursor(self, token: str) -> dict[str, Any]:
        data = decode_token(token)
        if not data or not isinstance(data.get("a"), list) or not isinstance(data.get("s"), int):
            raise ApiError(400, "invalid", "Invalid page token value.")
        return data

    def _busy_spans(self, calendar_id: str) -> list[tuple[datetime, datetime]]:
        zone = self._registry[calendar_id].zone
        return [
            event_span(entry.event, zone)
            for entry in self._events(calendar_id).values()
            if entry.event["status"] != "cancelled"
            and entry.event.get("transparency") != "transparent"
        ]


def _merged(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping or touching busy blocks become one, as Google reports them."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
