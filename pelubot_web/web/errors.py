"""HTML error pages in the site's style (``pelubot_web/errors.py`` decides when they apply)."""

from __future__ import annotations

import logging

from flask import render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

log = logging.getLogger(__name__)

# Codes with their own page; any other HTTP error uses the generic one.
PAGES = {400, 403, 404, 405, 413, 429, 500}


def http_error_page(error: HTTPException) -> Response:
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


def csrf_error_page(error: CSRFError) -> tuple[str, int]:
    message = _("This form has expired. Reload the page and try again.")
    return render_template("errors/400.html", error=error, status=400, message=message), 400


def internal_error_page(error: InternalServerError) -> tuple[str, int]:
    """Rendered without the database (``minimal``): the failure may be the database."""
    return render_template("errors/500.html", error=error, status=500, minimal=True), 500
