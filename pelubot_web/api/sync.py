"""Calendar sync endpoints: retry one reservation's sync, and the ops view of the outbox."""

from __future__ import annotations

import uuid
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from pelubot_web.api.auth import require_scope
from pelubot_web.api.blueprint import api_blueprint
from pelubot_web.api.pagination import PaginationQuerySchema, page, page_schema
from pelubot_web.api.schemas import BoundedDate, Id, SalonDateTime, SyncSchema, sync_view
from pelubot_web.models import CalendarSyncJob
from pelubot_web.models.outbox import OutboxStatus
from pelubot_web.services import booking, sync_status

blp = api_blueprint(
    "calendar_sync",
    __name__,
    description="Calendar sync: retry a reservation's sync; inspect and retry outbox jobs",
)


class CalendarJobSchema(ma.Schema):
    id = fields.Integer(required=True)
    reservation_id = fields.String(
        required=True, attribute="reservation.uuid", metadata={"format": "uuid"}
    )
    professional_id = fields.Integer(required=True, attribute="reservation.stylist_id")
    status = fields.String(required=True, metadata={"enum": tuple(OutboxStatus)})
    target_version = fields.Integer(required=True)
    attempts = fields.Integer(required=True)
    max_attempts = fields.Integer(required=True)
    available_at = SalonDateTime(required=True)
    locked_by = fields.String(required=True, allow_none=True)
    heartbeat_at = SalonDateTime(required=True, allow_none=True)
    last_error = fields.String(required=True, allow_none=True)
    created_at = SalonDateTime(required=True)
    started_at = SalonDateTime(required=True, allow_none=True)
    finished_at = SalonDateTime(required=True, allow_none=True)


class CalendarJobQuerySchema(PaginationQuerySchema):
    status = fields.String(
        validate=validate.OneOf(tuple(OutboxStatus)), metadata={"enum": tuple(OutboxStatus)}
    )
    professional_id = Id()
    date = BoundedDate(metadata={"description": "Reservations starting that salon-local day"})


@blp.route("/reservations/<uuid:reservation_id>/sync/retry", methods=["POST"])
@require_scope("booking")
@blp.response(202, SyncSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.doc(summary="Queue the reservation's calendar sync again (state-based, so harmless)")
def retry_reservation_sync(reservation_id: uuid.UUID) -> dict[str, Any]:
    sync_status.retry_reservation_sync(str(reservation_id))
    return sync_view(booking.get_reservation(str(reservation_id)))


@blp.route("/admin/calendar-jobs", methods=["GET"])
@require_scope("ops")
@blp.arguments(CalendarJobQuerySchema, location="query")
@blp.response(200, page_schema(CalendarJobSchema))
@blp.doc(summary="Calendar sync jobs (the outbox), newest first")
def list_calendar_jobs(query: dict[str, Any]) -> dict[str, Any]:
    items, total = sync_status.list_jobs(
        status=query.get("status"),
        stylist_id=query.get("professional_id"),
        day=query.get("date"),
        limit=query["limit"],
        offset=query["offset"],
    )
    return page(items, total, query)


@blp.route("/admin/calendar-jobs/<int:job_id>/retry", methods=["POST"])
@require_scope("ops")
@blp.response(202, CalendarJobSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.doc(summary="Retry one job now with a fresh attempt budget")
def retry_calendar_job(job_id: int) -> CalendarSyncJob:
    return sync_status.retry_job(job_id)
