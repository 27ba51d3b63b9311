"""Event times as Google reads and writes them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .api_errors import ApiError

__all__ = ["event_instant", "event_span", "format_rfc3339", "parse_rfc3339"]


def parse_rfc3339(value: object, name: str) -> datetime:
    """An RFC 3339 timestamp with a mandatory offset, as Google requires."""
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ApiError(400, "invalid", f"Invalid value for: {name}") from None
    if parsed.tzinfo is None:
        raise ApiError(400, "invalid", f"Invalid value for: {name} (time zone offset required)")
    return parsed


def format_rfc3339(moment: datetime) -> str:
    """Google's timestamp style: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_instant(when: object, name: str, calendar_zone: tzinfo = UTC) -> datetime:
    """Start or end of an event (``dateTime`` + optional ``timeZone``, or ``date``).

    An all-day ``date`` starts at midnight in the calendar's time zone, as on Google.
    """
    if not isinstance(when, Mapping) or not (when.get("dateTime") or when.get("date")):
        raise ApiError(400, "required", f"Missing {name} time.")
    if when.get("dateTime"):
        try:
            moment = datetime.fromisoformat(str(when["dateTime"]))
        except ValueError:
            raise ApiError(400, "invalid", f"Invalid {name} time.") from None
        if moment.tzinfo is not None:
            return moment
        if not when.get("timeZone"):
            raise ApiError(400, "invalid", f"Missing time zone definition for {name} time.")
        try:
            return moment.replace(tzinfo=ZoneInfo(str(when["timeZone"])))
        except (ZoneInfoNotFoundError, ValueError):
            raise ApiError(
                400, "invalid", f"Invalid time zone definition for {name} time."
            ) from None
    try:
        day = datetime.fromisoformat(str(when["date"])).date()
    except ValueError:
        raise ApiError(400, "invalid", f"Invalid {name} time.") from None
    return datetime.combine(day, time(), tzinfo=calendar_zone)


def event_span(event: Mapping[str, Any], calendar_zone: tzinfo = UTC) -> tuple[datetime, datetime]:
    return (
        event_instant(event.get("start"), "start", calendar_zone),
        event_instant(event.get("end"), "end", calendar_zone),
    )
