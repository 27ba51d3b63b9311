"""Request and response schemas of the API (marshmallow), also the source of the OpenAPI spec.

Times go out in the salon's time zone with its UTC offset (``2027-03-29T10:00:00+02:00``)
and must come in with an offset (a naive time is a 422).
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

import marshmallow as ma
from marshmallow import fields, pre_dump, validate, validates_schema

from pelubot_web.api.pagination import PaginationQuerySchema
from pelubot_web.inputs import MAX_DATE, MAX_DB_INT, MIN_DATE, has_control_chars
from pelubot_web.models import Reservation
from pelubot_web.models.reservation import LANGUAGES, ReservationStatus, SyncStatus
from pelubot_web.services.availability import MAX_DAYS, salon_tz

__all__ = [
    "MAX_ID",
    "BoundedDate",
    "CustomerSchema",
    "Id",
    "IdempotencyHeaderSchema",
    "ProfessionalSchema",
    "ProfessionalsQuerySchema",
    "ReservationCreateSchema",
    "ReservationListQuerySchema",
    "ReservationSchema",
    "ReservationUpdateSchema",
    "SalonDateTime",
    "ServiceSchema",
    "SlotSchema",
    "SlotsQuerySchema",
    "SlotsResponseSchema",
    "SyncSchema",
    "reservation_json",
    "reservation_view",
    "sync_view",
]

MAX_ID = MAX_DB_INT
MAX_SLOTS_LIMIT = 1000


def Id(*, strict: bool = True, **kwargs: Any) -> fields.Integer:  # reads like a field class
    """An id: a JSON integer (``2.7`` or ``"2"`` is a 422, never truncated); query
    strings pass ``strict=False`` since their values are always text."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def _no_control_chars(value: str) -> None:
    if has_control_chars(value):
        raise ma.ValidationError("Control characters are not allowed.")


def _in_range(value: date | datetime) -> None:
    day = value.date() if isinstance(value, datetime) else value
    if not MIN_DATE <= day <= MAX_DATE:
        raise ma.ValidationError(f"Must be between {MIN_DATE} and {MAX_DATE}.")


class SalonDateTime(fields.AwareDateTime):
    """ISO 8601 with a UTC offset in; out in the salon's zone with its offset."""

    def __init__(self, **kwargs: Any) -> None:
        validators = list(kwargs.pop("validate", None) or [])
        super().__init__(format="iso", validate=[_in_range, *validators], **kwargs)

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return super()._serialize(value.astimezone(salon_tz()), attr, obj, **kwargs)


class BoundedDate(fields.Date):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=_in_range, **kwargs)


# --- catalog ---------------------------------------------------------------------------


class ServiceSchema(ma.Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    duration_min = fields.Integer(required=True)
    price_cents = fields.Integer(required=True)
    currency = fields.String(required=True, metadata={"example": "EUR"})


class ServiceListSchema(ma.Schema):
    items = fields.List(fields.Nested(ServiceSchema), required=True)


class ProfessionalSchema(ma.Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    service_ids = fields.List(fields.Integer(), required=True)


class ProfessionalListSchema(ma.Schema):
    items = fields.List(fields.Nested(ProfessionalSchema), required=True)


class ProfessionalsQuerySchema(ma.Schema):
    service_id = Id(
        strict=False, metadata={"description": "Only professionals offering this service"}
    )


# --- availability ----------------------------------------------------------------------


class SlotsQuerySchema(ma.Schema):
    service_id = Id(strict=False, required=True)
    date = BoundedDate(required=True, metadata={"description": "First day (salon local date)"})
    professional_id = Id(strict=False, metadata={"description": "Omit for any professional"})
    days = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_DAYS),
        metadata={"description": f"Number of days from `date` (1-{MAX_DAYS})"},
    )
    limit = fields.Integer(
        validate=validate.Range(min=1, max=MAX_SLOTS_LIMIT),
        metadata={
            "description": "Only the first N slots (by start, then professional), e.g. "
            "the first 5 free times of the coming week; cheaper than the whole list"
        },
    )


class SlotSchema(ma.Schema):
    professional_id = fields.Integer(required=True, attribute="stylist_id")
    start = SalonDateTime(required=True)
    end = SalonDateTime(required=True)


class SlotsResponseSchema(ma.Schema):
    items = fields.List(fields.Nested(SlotSchema), required=True)
    service_id = fields.Integer(required=True)
    timezone = fields.String(required=True, metadata={"example": "Europe/Madrid"})


# --- reservations ----------------------------------------------------------------------


class CustomerInputSchema(ma.Schema):
    name = fields.String(
        required=True, validate=[validate.Length(min=1, max=120), _no_control_chars]
    )
    phone = fields.String(
        required=True,
        validate=[validate.Length(min=3, max=32), _no_control_chars],
        metadata={"description": "Any format; national numbers are read as Spanish (ES)"},
    )
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))


class ReservationCreateSchema(ma.Schema):
    service_id = Id(required=True)
    professional_id = Id(required=True)
    start = SalonDateTime(required=True, metadata={"example": "2027-03-29T10:00:00+02:00"})
    customer = fields.Nested(CustomerInputSchema, required=True)
    notes = fields.String(allow_none=True, validate=[validate.Length(max=1000), _no_control_chars])
    language = fields.String(
        load_default="es",
        validate=validate.OneOf(LANGUAGES),
        metadata={"description": "The customer's language: their emails are written in it"},
    )


class ReservationUpdateSchema(ma.Schema):
    start = SalonDateTime()
    professional_id = Id()
    service_id = Id()
    notes = fields.String(allow_none=True, validate=[validate.Length(max=1000), _no_control_chars])

    @validates_schema
    def _not_empty(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError(
                "Give at least one of start, professional_id, service_id, notes."
            )


class IdempotencyHeaderSchema(ma.Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=[validate.Length(min=1, max=255), validate.Regexp(r"^[\x21-\x7e]+$")],
        metadata={
            "description": "Unique per booking attempt; a retry with the same key and "
            "body returns the original response (kept 24 h)"
        },
    )


class CustomerSchema(ma.Schema):
    name = fields.String(required=True)
    phone = fields.String(required=True, metadata={"example": "+34600123456"})
    email = fields.String(required=True, allow_none=True)


class SyncSchema(ma.Schema):
    status = fields.String(
        required=True,
        validate=validate.OneOf(tuple(SyncStatus)),
        metadata={"enum": tuple(SyncStatus)},
    )
    job_id = fields.Integer(required=True, allow_none=True)
    attempts = fields.Integer(required=True)
    last_error = fields.String(required=True, allow_none=True)
    last_synced_at = SalonDateTime(required=True, allow_none=True)


def sync_view(reservation: Reservation) -> dict[str, Any]:
    """The ``sync`` object of a reservation (attempts come from its outbox row)."""
    job = reservation.sync_job
    return {
        "status": reservation.sync_status,
        "job_id": reservation.sync_job_id,
        "attempts": job.attempts if job is not None else 0,
        "last_error": reservation.last_sync_error,
        "last_synced_at": reservation.last_synced_at,
    }


def reservation_view(reservation: Reservation) -> dict[str, Any]:
    """A reservation's API fields, times still ``datetime``: the one mapping from the
    model, used by ``ReservationSchema`` and by ``reservation_json``."""
    return {
        "id": reservation.uuid,
        "status": reservation.status,
        "start": reservation.start_at,
        "end": reservation.end_at,
        "professional_id": reservation.stylist_id,
        "service_id": reservation.service_id,
        "customer": {
            "name": reservation.customer_name,
            "phone": reservation.customer.phone,
            "email": reservation.customer_email,
        },
        "notes": reservation.notes,
        "source": reservation.source,
        "language": reservation.language,
        "price_cents": reservation.price_cents,
        "currency": reservation.currency,
        "version": reservation.version,
        "created_at": reservation.created_at,
        "cancelled_at": reservation.cancelled_at,
        "sync": sync_view(reservation),
    }


class ReservationSchema(ma.Schema):
    id = fields.String(required=True, metadata={"format": "uuid"})
    status = fields.String(required=True, metadata={"enum": tuple(ReservationStatus)})
    start = SalonDateTime(required=True)
    end = SalonDateTime(required=True)
    professional_id = fields.Integer(required=True)
    service_id = fields.Integer(required=True)
    customer = fields.Nested(CustomerSchema, required=True)
    notes = fields.String(required=True, allow_none=True)
    source = fields.String(required=True)
    language = fields.String(required=True, metadata={"enum": LANGUAGES})
    price_cents = fields.Integer(required=True)
    currency = fields.String(required=True)
    version = fields.Integer(required=True)
    created_at = SalonDateTime(required=True)
    cancelled_at = SalonDateTime(required=True, allow_none=True)
    sync = fields.Nested(SyncSchema, required=True)

    @pre_dump
    def _from_model(self, obj: Any, **_kwargs: Any) -> Any:
        return reservation_view(obj) if isinstance(obj, Reservation) else obj


_RESERVATION_TIMES = ("start", "end", "created_at", "cancelled_at")


def reservation_json(reservation: Reservation) -> dict[str, Any]:
    """One reservation as ``ReservationSchema`` dumps it, without marshmallow.

    A list page is up to 100 reservations and every change answers with one: dumping
    them field by field was a quarter of a list request's CPU. Only the times need
    formatting (in the salon's zone, as ``SalonDateTime``; statuses are ``StrEnum``s, so
    JSON writes them as text); tests/api/test_reservations_api.py checks that both agree.
    """
    tz = salon_tz()
    view = reservation_view(reservation)
    for key in _RESERVATION_TIMES:
        view[key] = _in_salon_zone(view[key], tz)
    view["sync"]["last_synced_at"] = _in_salon_zone(view["sync"]["last_synced_at"], tz)
    return view


def _in_salon_zone(value: datetime | None, tz: tzinfo) -> str | None:
    return None if value is None else value.astimezone(tz).isoformat()


class ReservationListQuerySchema(PaginationQuerySchema):
    after = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "The `next_after` of the previous page: keyset paging, as fast "
            "on page 10,000 as on page 1 (not with `offset`)"
        },
    )
    professional_id = Id(strict=False)
    start_from = SalonDateTime(metadata={"description": "Inclusive"})
    start_to = SalonDateTime(metadata={"description": "Exclusive"})
    status = fields.String(validate=validate.OneOf(tuple(ReservationStatus)))
    phone = fields.String(
        validate=[validate.Length(min=3, max=32), _no_control_chars],
        metadata={"description": "The customer's phone: their reservations"},
    )
