"""HTML error pages in the site's style; paths under ``/api/`` get problem+json instead."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from pelubot_web.extensions import db

log = logging.getLogger(__name__)

# Codes with their own page; any other HTTP error uses the generic one.
PAGES = {400, 403, 404, 405, 413, 429, 500}


def _wants_problem_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _api_problem(error: HTTPException) -> Response:
    from pelubot_web.api.errors import problem  # lazy: the API blueprint is optional here

    status = error.code or 500
    detail = error.description if status < 500 else None
    return problem(status, error.name, detail)


def handle_http_error(error: HTTPException) -> Response | tuple[str, int]:
    if _wants_problem_json():
        return _api_problem(error)
    status = error.code or 500
    template = f"errors/{status}.html" if status in PAGES else "errors/generic.html"
    response = Response(
        render_template(template, error=error, status=status), status, mimetype="text/html"
    )
    if status == 429:
        response.headers["Retry-After"] = "60"
    elif status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def handle_csrf_error(error: CSRFError) -> Response | tuple[str, int]:
    if _wants_problem_json():
        return _api_problem(error)
    message = _("This form has expired. Reload the page and try again.")
    return render_template("errors/400.html", error=error, status=400, message=message), 400


def handle_internal_error(error: InternalServerError) -> Response | tuple[str, int]:
    # The session may be in a failed transaction; the page must not touch the database.
    db.session.rollback()
    if _wants_problem_json():
        return _api_problem(error)
    return render_template("errors/500.html", error=error, status=500, minimal=True), 500


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(InternalServerError, handle_internal_error)
    app.register_error_handler(HTTPException, handle_http_error)
