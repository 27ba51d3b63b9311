"""Offset pagination shared by every list endpoint: ``?limit=&offset=`` in, a page out.

A page is ``{"items": [...], "total": N, "limit": L, "offset": O}``; ``limit`` defaults
to 20 and is at most 100.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "PaginationQuerySchema", "page", "page_schema"]

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_OFFSET = 2**31 - 1


class PaginationQuerySchema(ma.Schema):
    """Inherit from this to add filters to a list endpoint's query."""

    limit = fields.Integer(
        load_default=DEFAULT_LIMIT, validate=validate.Range(min=1, max=MAX_LIMIT)
    )
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_OFFSET))


CURSOR_FIELDS: dict[str, fields.Field] = {
    "total": fields.Integer(
        required=True,
        metadata={"description": "Matching items; when `total_exact` is false, at least this"},
    ),
    "total_exact": fields.Boolean(
        required=True,
        metadata={"description": "False when counting stopped at the cap (see docs/api.md)"},
    ),
    "next_after": fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as `after` for the next page; null on the last page"},
    ),
}


@cache
def page_schema(item_schema: type[ma.Schema], cursor: bool = False) -> type[ma.Schema]:
    """The page schema of ``item_schema`` (one class per item schema, so OpenAPI names it).

    ``cursor`` adds the keyset fields of lists that also page with ``after``.
    """
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    page_fields: dict[str, fields.Field] = {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "total": fields.Integer(required=True),
        "limit": fields.Integer(required=True),
        "offset": fields.Integer(required=True),
    }
    if cursor:
        page_fields.update(CURSOR_FIELDS)
    return ma.Schema.from_dict(page_fields, name=name)


def page(items: list[Any], total: int, query: dict[str, Any]) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": query["limit"], "offset": query["offset"]}
