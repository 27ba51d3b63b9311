"""The app-level error handlers, registered once: problem+json under ``/api``, HTML elsewhere.

Each handler asks ``is_api_request()`` and hands the error to the API's problem+json
mapping (``api/errors.py``) or to the site's error pages (``web/errors.py``). Before,
both packages registered their own app-level handlers and the later one silently won.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from pelubot_web.api import errors as api_errors
from pelubot_web.api_path import is_api_request
from pelubot_web.extensions import db
from pelubot_web.services.errors import DomainError
from pelubot_web.web import errors as pages

__all__ = ["init_app"]


def handle_http_error(error: HTTPException) -> Any:
    if is_api_request():
        return api_errors.handle_http_exception(error)
    return pages.http_error_page(error)


def handle_csrf_error(error: CSRFError) -> Any:
    if is_api_request():
        return api_errors.handle_http_exception(error)
    return pages.csrf_error_page(error)


def handle_internal_error(error: InternalServerError) -> Any:
    # The session may be in a failed transaction; the response must not touch the database.
    db.session.rollback()
    if is_api_request():
        return api_errors.handle_internal_error(error)
    return pages.internal_error_page(error)


def handle_domain_error(error: DomainError) -> Any:
    """Views catch domain errors; one that escapes an HTML view is a bug (500)."""
    if is_api_request():
        return api_errors.problem_for_domain_error(error)
    raise error


def handle_database_unavailable(error: OperationalError) -> Any:
    if is_api_request():
        return api_errors.handle_database_unavailable(error)
    raise error


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(InternalServerError, handle_internal_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
