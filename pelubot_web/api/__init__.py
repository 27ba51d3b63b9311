"""The chatbot's JSON API under ``/api/v1`` (flask-smorest + marshmallow).

``init_app`` builds one ``Api`` per Flask app (the OpenAPI spec is per app) and
registers every API blueprint; errors become problem+json in ``pelubot_web/errors.py``.
A new API module builds its blueprint with ``blueprint.api_blueprint(...)``, puts
``@auth.require_scope(...)`` on each view (outermost), and is added to ``_blueprints()``.
"""

from __future__ import annotations

import http

from flask import Flask
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response

from pelubot_web.api.auth import API_KEY_HEADER, SECURITY_SCHEME
from pelubot_web.api.blueprint import V1_PREFIX
from pelubot_web.api.errors import PROBLEM_CONTENT_TYPE, ProblemSchema

__all__ = ["PelubotApi", "init_app"]


class PelubotApi(Api):  # type: ignore[misc]
    """flask-smorest's Api with RFC 9457 errors instead of its own JSON error format."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """None here: the app's handlers are registered once, by ``pelubot_web.errors``."""

    def _register_responses(self) -> None:
        # Named responses (NOT_FOUND, CONFLICT, ...) referenced by the views and the
        # catch-all "default": all problem+json.
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response = {"description": status.phrase, "schema": ProblemSchema}
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Any other error (problem details)", "schema": ProblemSchema}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def _blueprints() -> list[Blueprint]:
    from pelubot_web.api import catalog, reservations, slots, sync

    return [catalog.blp, slots.blp, reservations.blp, sync.blp]


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="PeluBot API",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=V1_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Book salon appointments: services, professionals, free "
                "slots, reservations and their calendar sync state. Errors are "
                "application/problem+json (RFC 9457). See docs/api.md."
            },
        },
    )
    api = PelubotApi()
    api.init_app(app)
    api.spec.components.security_scheme(
        SECURITY_SCHEME, {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}
    )
    for blueprint in _blueprints():
        api.register_blueprint(blueprint)
    app.extensions["pelubot_api"] = api
