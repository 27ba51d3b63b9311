"""``api_blueprint()``: a flask-smorest Blueprint under ``/api/v1`` with the API's plumbing.

Every API module builds its blueprint with it (``api/sync.py`` too), so each gets the
same behaviour: CSRF exempt (API keys, no cookies), the shared per-key rate limit, 415 for
non-JSON bodies, 400 for JSON the app cannot represent (``json_guard``), and problem+json
error handlers at blueprint level, which take precedence over the app's HTML error
pages for errors raised in these views.
"""

from __future__ import annotations

from flask_smorest import Blueprint
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from pelubot_web.api import errors
from pelubot_web.api.auth import rate_limit_api
from pelubot_web.api.json_guard import guard_json_body
from pelubot_web.extensions import csrf
from pelubot_web.services.errors import DomainError

__all__ = ["API_PREFIX", "api_blueprint"]

API_PREFIX = "/api/v1"


def api_blueprint(name: str, import_name: str, *, description: str) -> Blueprint:
    blp = Blueprint(name, import_name, url_prefix=API_PREFIX, description=description)
    csrf.exempt(blp)
    rate_limit_api(blp)
    blp.before_request(errors.require_json_body)
    blp.before_request(guard_json_body)
    blp.register_error_handler(HTTPException, errors.handle_http_exception)
    blp.register_error_handler(DomainError, errors.handle_domain_error)
    blp.register_error_handler(OperationalError, errors.handle_database_unavailable)
    return blp
