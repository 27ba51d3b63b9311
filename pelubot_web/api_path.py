"""Where the JSON API is mounted: the one prefix that errors, htmx and the API check."""

from __future__ import annotations

from flask import request

API_PREFIX = "/api"


def is_api_request() -> bool:
    """True for any path under the API, routed or not (an unknown /api/x gets problem+json)."""
    return request.path == API_PREFIX or request.path.startswith(f"{API_PREFIX}/")
