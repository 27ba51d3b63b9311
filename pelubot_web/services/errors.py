"""Domain errors: values the caller can act on, mapped to HTTP once in each blueprint."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose. ``code`` is stable for clients."""

    code = "domain_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    code = "not_found"


class InvalidInput(DomainError):
    code = "invalid_input"


class Conflict(DomainError):
    code = "conflict"


# Booking and availability errors (API issue). HTTP status comes from the base class:
# NotFound 404, InvalidInput 422, Conflict 409.


class SlotTaken(Conflict):
    """The stylist is already busy (another booking or a calendar block) at that time."""

    code = "slot_taken"


class NotModifiable(Conflict):
    """The reservation can no longer change (cancelled, completed, already started)."""

    code = "not_modifiable"


class OutsideWorkingHours(InvalidInput):
    """The stylist does not work then (weekly hours, time off, salon closed)."""

    code = "outside_working_hours"


class OffGrid(InvalidInput):
    """The start is not on the salon's slot grid (e.g. every 15 minutes)."""

    code = "off_grid"


class TooSoon(InvalidInput):
    """The start is in the past or inside the minimum notice."""

    code = "too_soon"


class TooFarAhead(InvalidInput):
    """The start is after the maximum advance the salon accepts."""

    code = "too_far_ahead"


class ServiceNotOffered(InvalidInput):
    """The stylist does not offer that service (or one of them is inactive)."""

    code = "service_not_offered"


class InvalidPhone(InvalidInput):
    """Not a valid phone number (stored as E.164)."""

    code = "invalid_phone"


class IdempotencyMismatch(InvalidInput):
    """An Idempotency-Key was reused with a different request body."""

    code = "idempotency_mismatch"


# Staff-side errors (admin, accounts, schedule): each has its own code, so the HTML
# views word them by code (``web/messages.py``) and never guess from the field.


class SlugTaken(Conflict):
    """Another service (or stylist) already uses that short name."""

    code = "slug_taken"


class EmailTaken(Conflict):
    """Another user already has that email."""

    code = "email_taken"


class WrongPassword(InvalidInput):
    """The current password given to change it is not the user's."""

    code = "wrong_password"


class StylistRequired(InvalidInput):
    """A stylist user must be linked to a stylist."""

    code = "stylist_required"


class OwnAdminAccess(Conflict):
    """An admin cannot demote or deactivate themselves (nobody could undo it)."""

    code = "own_admin_access"


class EndBeforeStart(InvalidInput):
    """An interval (working hours, time off) ends before it starts."""

    code = "end_before_start"


class LastDayBeforeFirst(InvalidInput):
    """A closure's last day is before its first."""

    code = "last_day_before_first"


class HoursOverlap(Conflict):
    """Working hours overlap another interval of that day."""

    code = "hours_overlap"


class ReservationsInTheWay(Conflict):
    """Confirmed reservations fall in the time being blocked (time off)."""

    code = "reservations_in_the_way"


class NonexistentLocalTime(InvalidInput):
    """A wall-clock time skipped by a DST change (e.g. 02:30 on the spring-forward night)."""

    code = "nonexistent_local_time"


class DeliveryError(Exception):
    """Sending a notification failed. ``retryable`` picks retry-with-backoff or failed.

    ``gone`` means the receiver asked never to be called again (webhook 410).
    """

    def __init__(self, message: str, *, retryable: bool, gone: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.gone = gone
