"""``events.list`` parameters, calendar registrations and opaque tokens of the emulator."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .api_errors import ApiError

__all__ = [
    "ACCESS_ROLES",
    "MAX_PAGE_SIZE",
    "NOT_WITH_SYNC_TOKEN",
    "CalendarInfo",
    "ListQuery",
    "check_list_query",
    "decode_token",
    "encode_token",
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

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "timeZone": self.time_zone, "accessRole": self.access}


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
