"""``GET /services`` and ``GET /professionals``: the cached catalog, with ETag and 304."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import jsonify, request
from flask.wrappers import Response

from pelubot_web.api.auth import require_scope
from pelubot_web.api.blueprint import api_blueprint
from pelubot_web.api.schemas import (
    ProfessionalListSchema,
    ProfessionalsQuerySchema,
    ServiceListSchema,
)
from pelubot_web.services import catalog

blp = api_blueprint("catalog", __name__, description="Services and professionals")

IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "ETag of a previous response: 304 when the catalog has not changed",
}
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}, "description": "Version of the list"}}


def _conditional(payload: dict[str, Any], etag: str, schema: ma.Schema) -> Response:
    response = jsonify(schema.dump(payload))
    response.set_etag(etag)
    # Clients may keep it but must revalidate (cheap: 304 when the ETag still matches).
    response.headers["Cache-Control"] = "private, no-cache"
    response.make_conditional(request)  # 304 without a body when the ETag matches
    return response


@blp.route("/services", methods=["GET"])
@require_scope("booking")
@blp.response(200, ServiceListSchema, headers=ETAG_HEADER)
@blp.alt_response(304, description="Not modified: the ETag still matches")
@blp.doc(parameters=[IF_NONE_MATCH], summary="Active services")
def list_services() -> Response:
    snapshot = catalog.services_snapshot()
    return _conditional({"items": list(snapshot.items)}, snapshot.etag, ServiceListSchema())


@blp.route("/professionals", methods=["GET"])
@require_scope("booking")
@blp.arguments(ProfessionalsQuerySchema, location="query")
@blp.response(200, ProfessionalListSchema, headers=ETAG_HEADER)
@blp.alt_response(304, description="Not modified: the ETag still matches")
@blp.doc(parameters=[IF_NONE_MATCH], summary="Active professionals and what they offer")
def list_professionals(query: dict[str, Any]) -> Response:
    snapshot = catalog.professionals_snapshot()
    items = list(snapshot.items)
    etag = snapshot.etag
    service_id = query.get("service_id")
    if service_id is not None:
        items = [p for p in items if service_id in p["service_ids"]]
        etag = f"{etag}-s{service_id}"
    return _conditional({"items": items}, etag, ProfessionalListSchema())
