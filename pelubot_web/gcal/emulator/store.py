"""In-memory calendars for the emulator: the Calendar v3 rules, no HTTP.

Behaviour follows Google where PeluBot depends on it: client-chosen ids in
base32hex, 409 ``duplicate`` even when the id belongs to a deleted event,
deleted events kept as ``status: "cancelled"`` (``get`` still returns them,
a second ``delete`` answers 410), incremental sync tokens and 410
``fullSyncRequired`` when a token is no longer valid. Recurring events are
stored as single events (no expansion), and all-day dates are read as UTC.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .api_errors import ApiError
from .times import event_span, format_rfc3339, parse_rfc3339

__all__ = ["CalendarStore", "ListQuery"]

Event = dict[str, Any]

EVENT_ID_RE = re.compile(r"^[0-9a-v]{5,1024}$")
MAX_PAGE_SIZE = 2500
STATUSES = ("confirmed", "tentative", "cancelled")
# Fields the server owns; values sent by a client are ignored.
SERVER_FIELDS = frozenset(
    {"kind", "etag", "htmlLink", "created", "updated", "creator", "organizer", "iCalUID"}
)
# Query filters Google refuses to combine with a sync token.
_NOT_WITH_SYNC_TOKEN = ("timeMin", "timeMax", "orderBy", "privateExtendedProperty")


@dataclass(frozen=True)
class ListQuery:
    """The ``events.list`` parameters the emulator understands."""

    time_min: datetime | None = None
    time_max: datetime | None = None
    show_deleted: bool = False
    sync_token: str | None = None
    page_token: str | None = None
    max_results: int = 250
    order_by: str | None = None
    private_properties: tuple[tuple[str, str], ...] = ()


@dataclass
class _Entry:
    event: Event
    changed: int  # store-wide change number of the last write


def _encode_token(payload: Mapping[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> dict[str, Any] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


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
        self._changes = 0  # never goes back, so etags stay unique across resets
        self._epoch = secrets.token_hex(4)  # sync tokens of an older epoch are invalid

    def reset(self) -> None:
        with self._lock:
            self._calendars.clear()
            self._epoch = secrets.token_hex(4)

    def invalidate_sync_tokens(self) -> None:
        with self._lock:
            self._epoch = secrets.token_hex(4)

    # -- events ---------------------------------------------------------------

    def insert(self, calendar_id: str, body: Mapping[str, Any]) -> Event:
        event_id = str(body.get("id") or _new_event_id())
        if not EVENT_ID_RE.match(event_id):
            raise ApiError(400, "invalid", "Invalid resource id value.")
        with self._lock:
            events = self._events(calendar_id)
            if event_id in events:  # also when that event is deleted, as on Google
                raise ApiError(409, "duplicate")
            now = self._clock()
            event = self._build(calendar_id, event_id, body, created=now, sequence=0)
            return self._write(events, event, now)

    def get(self, calendar_id: str, event_id: str) -> Event:
        with self._lock:
            return copy.deepcopy(self._existing(calendar_id, event_id).event)

    def update(self, calendar_id: str, event_id: str, body: Mapping[str, Any]) -> Event:
        """Full replacement; a deleted event comes back (status defaults to confirmed)."""
        with self._lock:
            old = self._existing(calendar_id, event_id).event
            return self._replace(calendar_id, old, dict(body))

    def patch(self, calendar_id: str, event_id: str, body: Mapping[str, Any]) -> Event:
        with self._lock:
            old = self._existing(calendar_id, event_id).event
            return self._replace(calendar_id, old, _merge(old, body))

    def delete(self, calendar_id: str, event_id: str) -> None:
        with self._lock:
            entry = self._existing(calendar_id, event_id)
            if entry.event["status"] == "cancelled":
                raise ApiError(410, "deleted")
            event = copy.deepcopy(entry.event)
            event["status"] = "cancelled"
            self._write(self._events(calendar_id), event, self._clock())

    def list_events(self, calendar_id: str, query: ListQuery) -> dict[str, Any]:
        self._check_list_query(query)
        with self._lock:
            since = self._sync_point(calendar_id, query.sync_token) if query.sync_token else None
            cursor = self._page_cursor(query.page_token) if query.page_token else None
            snapshot = cursor["s"] if cursor else self._changes
            entries = list(self._events(calendar_id).values())
            if since is not None:
                # Incremental: every change, deletions included, whatever the filters.
                chosen = [entry for entry in entries if entry.changed > since]
            else:
                chosen = [entry for entry in entries if self._matches(entry.event, query)]
            key = self._sort_key(query.order_by)
            chosen.sort(key=key)
            if cursor:
                chosen = [entry for entry in chosen if key(entry) > tuple(cursor["a"])]
            page = chosen[: query.max_results]
            answer: dict[str, Any] = {
                "kind": "calendar#events",
                "etag": f'"{self._changes}"',
                "summary": calendar_id,
                "updated": format_rfc3339(self._clock()),
                "timeZone": "UTC",
                "accessRole": "owner",
                "defaultReminders": [],
                "items": [self._listed(entry.event, query.show_deleted) for entry in page],
            }
            if len(chosen) > len(page):
                answer["nextPageToken"] = _encode_token({"a": list(key(page[-1])), "s": snapshot})
            else:
                token = {"e": self._epoch, "c": calendar_id, "n": snapshot}
                answer["nextSyncToken"] = _encode_token(token)
            return answer

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
        return self._calendars.setdefault(calendar_id, {})  # calendars appear on first use

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
        start, end = event_span(event)
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
        data = _decode_token(token) or {}
        point = data.get("n")
        stale = data.get("e") != self._epoch or data.get("c") != calendar_id
        if stale or not isinstance(point, int) or point > self._changes:
            raise ApiError(410, "fullSyncRequired")
        return point

    def _page_cursor(self, token: str) -> dict[str, Any]:
        data = _decode_token(token)
        if not data or not isinstance(data.get("a"), list) or not isinstance(data.get("s"), int):
            raise ApiError(400, "invalid", "Invalid page token value.")
        return data

    @staticmethod
    def _check_list_query(query: ListQuery) -> None:
        if query.sync_token and (
            query.time_min or query.time_max or query.order_by or query.private_properties
        ):
            raise ApiError(
                400,
                "invalid",
                f"syncToken cannot be combined with {', '.join(_NOT_WITH_SYNC_TOKEN)}",
            )
        if query.time_min and query.time_max and query.time_min >= query.time_max:
            raise ApiError(400, "timeRangeEmpty")
        if query.order_by not in (None, "startTime", "updated"):
            raise ApiError(400, "invalid", "Invalid value for: orderBy")
        if not 1 <= query.max_results <= MAX_PAGE_SIZE:
            raise ApiError(400, "invalid", "Invalid value for: maxResults")

    @staticmethod
    def _matches(event: Event, query: ListQuery) -> bool:
        if event["status"] == "cancelled" and not query.show_deleted:
            return False
        start, end = event_span(event)
        if query.time_min and end <= query.time_min:  # both bounds are exclusive
            return False
        if query.time_max and start >= query.time_max:
            return False
        private = (event.get("extendedProperties") or {}).get("private") or {}
        return all(private.get(name) == value for name, value in query.private_properties)

    @staticmethod
    def _sort_key(order_by: str | None) -> Callable[[_Entry], tuple[str, ...]]:
        # Keyset paging on a stable key: an event that does not change while a
        # client pages cannot be skipped.
        if order_by == "startTime":
            return lambda entry: (format_rfc3339(event_span(entry.event)[0]), entry.event["id"])
        if order_by == "updated":
            return lambda entry: (entry.event["updated"], entry.event["id"])
        return lambda entry: (entry.event["id"],)

    @staticmethod
    def _listed(event: Event, show_deleted: bool) -> Event:
        if event["status"] == "cancelled" and not show_deleted:
            # Google hides a deleted event's details unless showDeleted is set.
            return {k: event[k] for k in ("kind", "etag", "id", "status", "updated")}
        return copy.deepcopy(event)

    def _busy_spans(self, calendar_id: str) -> list[tuple[datetime, datetime]]:
        return [
            event_span(entry.event)
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
