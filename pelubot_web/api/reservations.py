"""Reservations: book (idempotent), list, read, reschedule, cancel, and read sync state."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import current_app, request, url_for
from flask.views import MethodView
from flask.wrappers import Response

from pelubot_web.api.auth import current_principal, require_scope
from pelubot_web.api.blueprint import api_blueprint
from pelubot_web.api.pagination import page, page_schema
from pelubot_web.api.schemas import (
    IdempotencyHeaderSchema,
    ReservationCreateSchema,
    ReservationListQuerySchema,
    ReservationSchema,
    ReservationUpdateSchema,
    SyncSchema,
    reservation_json,
    sync_view,
)
from pelubot_web.models import IdempotencyRecord, Reservation
from pelubot_web.services import booking, idempotency
from pelubot_web.services.errors import Conflict
from pelubot_web.services.reservation_list import TOTAL_CAP, ReservationFilter, reservation_page

blp = api_blueprint("reservations", __name__, description="Book and manage reservations")

SOURCE = "chatbot"
LOCATION_HEADER = {"Location": {"schema": {"type": "string"}, "description": "The new resource"}}


def _location(reservation_uuid: str) -> str:
    return url_for("reservations.ReservationItem", reservation_id=uuid.UUID(reservation_uuid))


def _reservation_json(reservation: Reservation) -> str:
    return json.dumps(reservation_json(reservation), ensure_ascii=False)


def _stored(reservation_id: uuid.UUID) -> Response:
    """200 with the reservation as stored now, read in one query (after a change, the
    service's copy was expired by its commit); ``@blp.response`` documents the body."""
    reservation = booking.get_reservation(str(reservation_id))
    return _json_response(_reservation_json(reservation), 200, {})


def _json_response(body: str, status: int, headers: dict[str, str]) -> Response:
    response = current_app.response_class(body, status=status, mimetype="application/json")
    response.headers.update(headers)
    return response


@blp.route("/reservations")
class ReservationCollection(MethodView):
    @require_scope("booking")
    @blp.arguments(ReservationListQuerySchema, location="query")
    @blp.response(200, page_schema(ReservationSchema, cursor=True))
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(
        summary="List reservations (by start, then id)",
        description="Page with `offset`, or with `after` (the previous page's "
        "`next_after`) for deep pages. `total` is exact up to "
        f"{TOTAL_CAP}; above that `total_exact` is false and `total` is {TOTAL_CAP}.",
    )
    def get(self, query: dict[str, Any]) -> Response:
        result = reservation_page(
            ReservationFilter(
                stylist_id=query.get("professional_id"),
                start_from=query.get("start_from"),
                start_to=query.get("start_to"),
                status=query.get("status"),
                phone=query.get("phone"),
            ),
            limit=query["limit"],
            offset=query["offset"],
            after=query.get("after"),
        )
        body = page([reservation_json(r) for r in result.items], result.total, query) | {
            "total_exact": result.total_exact,
            "next_after": result.next_after,
        }
        return _json_response(json.dumps(body, ensure_ascii=False), 200, {})

    @require_scope("booking")
    @blp.arguments(IdempotencyHeaderSchema, location="headers")
    @blp.arguments(ReservationCreateSchema)
    @blp.response(201, ReservationSchema, headers=LOCATION_HEADER)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @blp.doc(
        summary="Book an appointment",
        description="The start must be a free slot (see /slots). Send an Idempotency-Key "
        "to make retries safe: the same key and body return the original response.",
    )
    def post(self, headers: dict[str, Any], data: dict[str, Any]) -> Response:
        key = headers.get("idempotency_key")
        principal = current_principal().rate_limit_key
        request_fingerprint = idempotency.fingerprint(request.get_json())
        if key:
            record = idempotency.find(principal, key)
            if record is not None:
                return _replay(record, request_fingerprint)

        created: dict[str, str] = {}

        def remember(reservation: Reservation) -> None:
            # The answer is built inside the booking transaction: what it commits, stored
            # for replays and sent after the commit without reading the row back.
            created.update(uuid=reservation.uuid, body=_reservation_json(reservation))
            if key:
                idempotency.remember(principal, key, request_fingerprint, 201, created["body"])

        customer = data["customer"]
        try:
            booking.create_reservation(
                service_id=data["service_id"],
                stylist_id=data["professional_id"],
                start=data["start"],
                customer=booking.CustomerInput(
                    name=customer["name"], phone=customer["phone"], email=customer.get("email")
                ),
                notes=data.get("notes"),
                source=SOURCE,
                on_created=remember,
                language=data["language"],
            )
        except Conflict:
            # A concurrent request with the same key may have won: answer as it did.
            record = idempotency.find(principal, key) if key else None
            if record is None:
                raise
            return _replay(record, request_fingerprint)
        return _json_response(created["body"], 201, {"Location": _location(created["uuid"])})


def _replay(record: IdempotencyRecord, request_fingerprint: str) -> Response:
    status, body = idempotency.replay(record, request_fingerprint)
    headers = {"Idempotent-Replayed": "true"}
    reservation_id = json.loads(body).get("id")
    if reservation_id:
        headers["Location"] = _location(reservation_id)
    return _json_response(body, status, headers)


@blp.route("/reservations/<uuid:reservation_id>")
class ReservationItem(MethodView):
    @require_scope("booking")
    @blp.response(200, ReservationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(summary="One reservation")
    def get(self, reservation_id: uuid.UUID) -> Response:
        return _stored(reservation_id)

    @require_scope("booking")
    @blp.arguments(ReservationUpdateSchema)
    @blp.response(200, ReservationSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(
        summary="Reschedule",
        description="Change start, professional, service and/or notes. The new slot must "
        "be free; a cancelled, closed or already started reservation is 409.",
    )
    def patch(self, data: dict[str, Any], reservation_id: uuid.UUID) -> Response:
        booking.reschedule_reservation(
            str(reservation_id),
            start=data.get("start"),
            stylist_id=data.get("professional_id"),
            service_id=data.get("service_id"),
            notes=data.get("notes", booking.UNCHANGED),
            source=SOURCE,
        )
        return _stored(reservation_id)


@blp.route("/reservations/<uuid:reservation_id>/cancel", methods=["POST"])
@require_scope("booking")
@blp.response(200, ReservationSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
@blp.doc(summary="Cancel (idempotent: cancelling again returns the same state)")
def cancel(reservation_id: uuid.UUID) -> Response:
    booking.cancel_reservation(str(reservation_id), source=SOURCE)
    return _stored(reservation_id)


@blp.route("/reservations/<uuid:reservation_id>/sync", methods=["GET"])
@require_scope("booking")
@blp.response(200, SyncSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.doc(summary="Calendar sync state of a reservation")
def sync_state(reservation_id: uuid.UUID) -> dict[str, Any]:
    return sync_view(booking.get_reservation(str(reservation_id)))
