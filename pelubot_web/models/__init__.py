"""Database models, one module per aggregate. Importing this package registers them all."""

from pelubot_web.models.audit import AuditEntry
from pelubot_web.models.catalog import Service, Stylist, StylistService
from pelubot_web.models.notify import Notification, WebhookEndpoint
from pelubot_web.models.reservation import Customer, IdempotencyRecord, Reservation
from pelubot_web.models.schedule import BookingRules, SalonClosure, TimeOff, WorkingHours
from pelubot_web.models.sync import CalendarPullState, CalendarSyncJob, ExternalBusy
from pelubot_web.models.user import ApiKey, User, UserLogin

__all__ = [
    "ApiKey",
    "AuditEntry",
    "BookingRules",
    "CalendarPullState",
    "CalendarSyncJob",
    "Customer",
    "ExternalBusy",
    "IdempotencyRecord",
    "Notification",
    "Reservation",
    "SalonClosure",
    "Service",
    "Stylist",
    "StylistService",
    "TimeOff",
    "User",
    "UserLogin",
    "WebhookEndpoint",
    "WorkingHours",
]
