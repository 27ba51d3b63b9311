"""Google Calendar gateway: client factory, event mapping, error classification.

The emulator lives in ``pelubot_web.gcal.emulator`` and is not imported here.
"""

from .client import CalendarGateway, CallHooks, ChangePage
from .errors import (
    CalendarDisabled,
    CalendarNotFound,
    CalendarReadOnly,
    CalendarUnavailable,
    EventIdUnusable,
    GoogleCalendarError,
    SyncTokenExpired,
    classify,
)
from .events import (
    PELUBOT_PROPERTY,
    EventData,
    build_event_body,
    event_id_for,
    is_pelubot_event,
    next_event_id,
    reservation_id_of,
)
from .transport import build_calendar_service, emulator_api_endpoint, service_account_email

__all__ = [
    "PELUBOT_PROPERTY",
    "CalendarDisabled",
    "CalendarGateway",
    "CalendarNotFound",
    "CalendarReadOnly",
    "CalendarUnavailable",
    "CallHooks",
    "ChangePage",
    "EventIdUnusable",
    "EventData",
    "GoogleCalendarError",
    "SyncTokenExpired",
    "build_calendar_service",
    "build_event_body",
    "classify",
    "emulator_api_endpoint",
    "event_id_for",
    "is_pelubot_event",
    "next_event_id",
    "reservation_id_of",
    "service_account_email",
]
