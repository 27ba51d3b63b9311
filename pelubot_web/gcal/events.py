"""How a reservation looks as a Google Calendar event.

The event id is derived from the reservation UUID, so every sync of the same
reservation addresses the same event: a repeated insert answers 409 and turns
into an update instead of creating a duplicate.
"""

from __future__ import annotations

import base64
import html
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "PELUBOT_PROPERTY",
    "PELUBOT_SOURCE_PROPERTY",
    "EventData",
    "build_event_body",
    "event_id_for",
    "is_pelubot_event",
    "reservation_id_of",
]

PELUBOT_PROPERTY = "pelubot_reservation_id"
PELUBOT_SOURCE_PROPERTY = "pelubot_source"


def event_id_for(reservation_uuid: str | uuid.UUID) -> str:
    """Google event id for a reservation: base32hex of the UUID's 16 bytes.

    Lowercase, unpadded, 26 characters from ``0-9a-v``, which is exactly the
    alphabet Google accepts for client-chosen ids (length 5-1024).
    """
    raw = (
        reservation_uuid if isinstance(reservation_uuid, uuid.UUID) else uuid.UUID(reservation_uuid)
    )
    return base64.b32hexencode(raw.bytes).decode("ascii").rstrip("=").lower()


BASE_ID_LENGTH = 26
_GENERATION_MARK = "g"


def next_event_id(event_id: str) -> str:
    """The next generation of a reservation's event id, still deterministic.

    Google keeps a deleted event's id forever; once it purges the cancelled event the id
    can neither be inserted (409) nor updated (404). ``<base>g<n>`` is longer than any
    base id, so it never collides with another reservation's, and stays in ``0-9a-v``.
    """
    base, mark, generation = event_id[:BASE_ID_LENGTH], event_id[BASE_ID_LENGTH:][:1], 1
    if mark == _GENERATION_MARK and event_id[BASE_ID_LENGTH + 1 :].isdigit():
        generation = int(event_id[BASE_ID_LENGTH + 1 :]) + 1
    return f"{base}{_GENERATION_MARK}{generation}"


@dataclass(frozen=True)
class EventData:
    """What the calendar event shows about one reservation."""

    reservation_uuid: str
    service_name: str
    customer_first_name: str
    customer_phone: str
    stylist_name: str
    start: datetime
    end: datetime
    timezone: str
    notes: str | None
    manage_url: str | None = None


def build_event_body(data: EventData) -> dict[str, Any]:
    """The full event resource for ``events.insert`` / ``events.update``.

    Times are written in the salon's zone so the stylist sees local times even
    when the calendar itself is set to another zone.
    """
    if data.start.tzinfo is None or data.end.tzinfo is None:
        raise ValueError("EventData.start and EventData.end must be timezone-aware")
    zone = ZoneInfo(data.timezone)
    return {
        "id": event_id_for(data.reservation_uuid),
        "summary": f"{data.service_name} — {data.customer_first_name}",
        "description": _description(data),
        "start": {
            "dateTime": data.start.astimezone(zone).isoformat(),
            "timeZone": data.timezone,
        },
        "end": {
            "dateTime": data.end.astimezone(zone).isoformat(),
            "timeZone": data.timezone,
        },
        "status": "confirmed",
        "extendedProperties": {
            "private": {
                PELUBOT_PROPERTY: str(uuid.UUID(data.reservation_uuid)),
                PELUBOT_SOURCE_PROPERTY: "pelubot",
            }
        },
    }


def is_pelubot_event(event: dict[str, Any]) -> bool:
    """True for events PeluBot wrote itself (the pull side must skip them)."""
    return reservation_id_of(event) is not None


def reservation_id_of(event: dict[str, Any]) -> str | None:
    """The reservation UUID stored in a PeluBot event, if any."""
    private = (event.get("extendedProperties") or {}).get("private") or {}
    value = private.get(PELUBOT_PROPERTY)
    return value if isinstance(value, str) and value else None


def _description(data: EventData) -> str:
    """The event description as HTML whose every value is escaped text.

    Google Calendar renders ``description`` as HTML ("Can contain HTML", Calendar API v3
    Event resource), so customer text such as ``<a href=...>`` would become a live link
    in the stylist's calendar. Every value is escaped and lines are joined with ``<br>``,
    which Google shows as line breaks: what the customer typed is shown, never rendered.
    """
    lines = [
        f"Servicio: {data.service_name}",
        f"Estilista: {data.stylist_name}",
        f"Cliente: {data.customer_first_name}",
        f"Teléfono: {data.customer_phone}",
    ]
    if data.notes:
        lines += [
            f"Notas: {line}" if n == 0 else line for n, line in enumerate(data.notes.splitlines())
        ]
    if data.manage_url:
        lines.append(f"Gestionar la reserva: {data.manage_url}")
    lines += ["", f"Reserva PeluBot: {data.reservation_uuid}"]
    return "<br>".join(html.escape(line, quote=False) for line in lines)
