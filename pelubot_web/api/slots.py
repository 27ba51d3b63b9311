"""``GET /slots``: free starts for a service, computed from the database on each call."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.wrappers import Response

from pelubot_web.api.auth import require_scope
from pelubot_web.api.blueprint import api_blueprint
from pelubot_web.api.schemas import SlotsQuerySchema, SlotsResponseSchema
from pelubot_web.config import current_config
from pelubot_web.services.availability import Slot, available_slots

blp = api_blueprint("availability", __name__, description="Free slots")


def slot_json(slot: Slot) -> dict[str, Any]:
    """One slot as ``SlotSchema`` documents it, built directly.

    A week of any-stylist slots is thousands of items: dumping them field by field
    through marshmallow was most of the request's time. The times already carry the
    salon's zone, so ``isoformat()`` is the same string ``SalonDateTime`` produces
    (tests/api/test_slots_api.py compares the two).
    """
    return {
        "professional_id": slot.stylist_id,
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
    }


@blp.route("/slots", methods=["GET"])
@require_scope("booking")
@blp.arguments(SlotsQuerySchema, location="query")
@blp.response(200, SlotsResponseSchema)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.doc(
    summary="Free slots",
    description="Starts a professional (or any professional offering the service when "
    "`professional_id` is omitted) can take, sorted by start then professional. Times "
    "carry the salon's UTC offset. `limit` returns only the first slots.",
)
def list_slots(query: dict[str, Any]) -> Response:
    slots = available_slots(
        query["service_id"],
        query["date"],
        stylist_id=query.get("professional_id"),
        days=query["days"],
        limit=query.get("limit"),
    )
    body = {
        "items": [slot_json(slot) for slot in slots],
        "service_id": query["service_id"],
        "timezone": current_config().timezone,
    }
    return jsonify(body)
