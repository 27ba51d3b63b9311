"""``GET /slots``: free starts for a service, computed from the database on each call."""

from __future__ import annotations

from typing import Any

from pelubot_web.api.auth import require_scope
from pelubot_web.api.blueprint import api_blueprint
from pelubot_web.api.schemas import SlotsQuerySchema, SlotsResponseSchema
from pelubot_web.config import current_config
from pelubot_web.services.availability import available_slots

blp = api_blueprint("availability", __name__, description="Free slots")


@blp.route("/slots", methods=["GET"])
@require_scope("booking")
@blp.arguments(SlotsQuerySchema, location="query")
@blp.response(200, SlotsResponseSchema)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
@blp.doc(
    summary="Free slots",
    description="Starts a professional (or any professional offering the service when "
    "`professional_id` is omitted) can take, sorted by start then professional. Times "
    "carry the salon's UTC offset.",
)
def list_slots(query: dict[str, Any]) -> dict[str, Any]:
    slots = available_slots(
        query["service_id"],
        query["date"],
        stylist_id=query.get("professional_id"),
        days=query["days"],
    )
    return {
        "items": slots,
        "service_id": query["service_id"],
        "timezone": current_config().timezone,
    }
