"""Expanding recurring events into instances, as ``events.list(singleEvents=true)`` does.

Simple RRULEs only (what a stylist sets in Google Calendar's UI: daily or weekly,
interval, count or until, weekdays); expansion happens on the event's wall clock in
its time zone, so a 10:00 weekly event stays at 10:00 across DST, as on Google.
Instance ids follow Google's shape: ``<event id>_<start in UTC, basic format>``
(``_<YYYYMMDD>`` for all-day events).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from .api_errors import ApiError
from .times import event_instant, format_rfc3339

__all__ = ["expand", "is_recurring"]

# Google caps open-ended expansion too; two years is beyond any booking horizon.
MAX_INSTANCES = 730
OPEN_ENDED_HORIZON = timedelta(days=730)


def is_recurring(event: dict[str, Any]) -> bool:
    return any(str(rule).startswith("RRULE:") for rule in event.get("recurrence") or [])


def _zone(event: dict[str, Any], calendar_zone: ZoneInfo) -> ZoneInfo:
    name = (event.get("start") or {}).get("timeZone")
    return ZoneInfo(name) if name else calendar_zone


def expand(
    event: dict[str, Any], calendar_zone: ZoneInfo, until: datetime | None
) -> list[dict[str, Any]]:
    """The instances of ``event`` starting before ``until`` (two years when None)."""
    rules = [str(r)[len("RRULE:") :] for r in event.get("recurrence") or [] if "RRULE:" in r]
    all_day = "date" in (event.get("start") or {})
    zone = _zone(event, calendar_zone)
    start = event_instant(event.get("start"), "start", calendar_zone).astimezone(zone)
    end = event_instant(event.get("end"), "end", calendar_zone).astimezone(zone)
    wall_start = start.replace(tzinfo=None)
    try:
        rule = rrulestr(rules[0], dtstart=wall_start, ignoretz=True)
    except (ValueError, IndexError):
        raise ApiError(400, "invalid", "Invalid recurrence rule.") from None
    limit = until or max(datetime.now(UTC), start) + OPEN_ENDED_HORIZON
    instances: list[dict[str, Any]] = []
    for wall in rule:
        begin = wall.replace(tzinfo=zone)
        if begin >= limit or len(instances) >= MAX_INSTANCES:
            break
        instances.append(_instance(event, begin, begin + (end - start), all_day=all_day))
    return instances


def _instance(
    event: dict[str, Any], begin: datetime, finish: datetime, *, all_day: bool
) -> dict[str, Any]:
    instance = {k: copy.deepcopy(v) for k, v in event.items() if k != "recurrence"}
    if all_day:
        suffix = begin.strftime("%Y%m%d")
        instance["start"] = {"date": begin.date().isoformat()}
        instance["end"] = {"date": finish.date().isoformat()}
        instance["originalStartTime"] = {"date": begin.date().isoformat()}
    else:
        suffix = begin.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        zone_name = (event.get("start") or {}).get("timeZone")
        instance["start"] = {"dateTime": begin.isoformat(), **_tz(zone_name)}
        instance["end"] = {"dateTime": finish.isoformat(), **_tz(zone_name)}
        instance["originalStartTime"] = {"dateTime": format_rfc3339(begin)}
    instance["id"] = f"{event['id']}_{suffix}"
    instance["recurringEventId"] = event["id"]
    return instance


def _tz(name: str | None) -> dict[str, str]:
    return {"timeZone": name} if name else {}
