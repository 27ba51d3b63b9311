"""``events.list`` of the emulator: parameters, filtering, ordering, expansion, tokens;
plus what a registered calendar is."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .api_errors import ApiError
from .recurrence import expand, is_recurring
from .times import event_span, format_rfc3339

Event = dict[str, Any]

__all__ = [
    "ACCESS_ROLES",
    "MAX_PAGE_SIZE",
    "NOT_WITH_SYNC_TOKEN",
    "CalendarInfo",
    "ListQuery",
    "check_list_query",
    "decode_token",
    "encode_token",
    "listed",
    "matches",
    "shown",
    "sort_key",
]

MAX_PAGE_SIZE = 2500
NOT_WITH_SYNC_TOKEN = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
ACCESS_ROLES = ("owner", "writer", "reader")


@dataclass(frozen=True)
class CalendarInfo:
    """A registered calendar: who may write to it and its time zone."""

    id: str
    time_zone: str = "UTC"
    access: str = "owner"
    # Shared only with these users (domain-wide delegation: the stylist's own account);
    # empty: shared with the service account, whoever the caller acts as.
    shared_with: tuple[str, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def visible_to(self, subject: str | None) -> bool:
        return not self.shared_with or subject in self.shared_with

    def to_json(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "id": self.id,
            "timeZone": self.time_zone,
            "accessRole": self.access,
        }
        if self.shared_with:
            info["sharedWith"] = list(self.shared_with)
        return info


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
    single_events: bool = False
    # Names of other parameters present that Google refuses next to a sync token.
    other_filters: tuple[str, ...] = ()


def encode_token(payload: Mapping[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def check_list_query(query: ListQuery) -> None:
    if query.sync_token and (
        query.time_min
        or query.time_max
        or query.order_by
        or query.private_properties
        or query.other_filters
    ):
        raise ApiError(
            400,
            "invalid",
            f"syncToken cannot be combined with {', '.join(NOT_WITH_SYNC_TOKEN)}",
        )
    if query.time_min and query.time_max and query.time_min >= query.time_max:
        raise ApiError(400, "timeRangeEmpty")
    if query.order_by not in (None, "startTime", "updated"):
        raise ApiError(400, "invalid", "Invalid value for: orderBy")
    if not 1 <= query.max_results <= MAX_PAGE_SIZE:
        raise ApiError(400, "invalid", "Invalid value for: maxResults")


def shown(event: Event, query: ListQuery, info: CalendarInfo) -> list[Event]:
    """The event itself, or its instances when ``singleEvents`` asks for them."""
    if not (query.single_events and is_recurring(event)):
        return [event]
    return expand(event, info.zone, query.time_max)


def matches(event: Event, query: ListQuery, info: CalendarInfo) -> bool:
    if event["status"] == "cancelled" and not query.show_deleted:
        return False
    start, end = event_span(event, info.zone)
    if query.time_min and end <= query.time_min:  # both bounds are exclusive
        return False
    if query.time_max and start >= query.time_max:
        return False
    private = (event.get("extendedProperties") or {}).get("private") or {}
    return all(private.get(name) == value for name, value in query.private_properties)


def sort_key(order_by: str | None, info: CalendarInfo) -> Callable[[Event], tuple[str, ...]]:
    # Keyset paging on a stable key: an event that does not change while a
    # client pages cannot be skipped.
    if order_by == "startTime":
        return lambda event: (format_rfc3339(event_span(event, info.zone)[0]), event["id"])
    if order_by == "updated":
        return lambda event: (event["updated"], event["id"])
    return lambda event: (event["id"],)


def listed(event: Event, show_deleted: bool) -> Event:
    if event["status"] == "cancelled" and not show_deleted:
        # Google hides a deleted event's details unless showDeleted is set.
        return {k: event[k] for k in ("kind", "etag", "id", "status", "updated")}
    return copy.deepcopy(event)
