"""``api_blueprint()``: a flask-smorest Blueprint under ``/api/v1`` with the API's plumbing.

Every API module builds its blueprint with it (``api/sync.py`` too), so each gets the
same behaviour: CSRF exempt (API keys, no cookies), the shared per-key rate limit,
415 for non-JSON bodies and 400 for JSON the app cannot represent (``json_guard``).
Errors become problem+json in the app-level handlers (``pelubot_web/errors.py``),
which know every path under ``API_PREFIX``.
"""

from __future__ import annotations

from flask_smorest import Blueprint

from pelubot_web.api import errors
from pelubot_web.api.auth import rate_limit_api
from pelubot_web.api.json_guard import guard_json_body
from pelubot_web.api_path import API_PREFIX
from pelubot_web.extensions import csrf

__all__ = ["V1_PREFIX", "api_blueprint"]

V1_PREFIX = f"{API_PREFIX}/v1"


def api_blueprint(name: str, import_name: str, *, description: str) -> Blueprint:
    blp = Blueprint(name, import_name, url_prefix=V1_PREFIX, description=description)
    csrf.exempt(blp)
    rate_limit_api(blp)
    blp.before_request(errors.require_json_body)
    blp.before_request(guard_json_body)
    return blp
