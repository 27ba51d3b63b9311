"""Locale and time zone selection: Spanish by default, English on request."""

from __future__ import annotations

from flask import current_app, request, session

SUPPORTED_LOCALES = ("es", "en")
DEFAULT_LOCALE = "es"


def select_locale() -> str:
    """Explicit choice (``?lang=`` or the session) first, then Accept-Language, then Spanish."""
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in SUPPORTED_LOCALES:
        return str(chosen)
    best = request.accept_languages.best_match(SUPPORTED_LOCALES)
    return best or DEFAULT_LOCALE


def select_timezone() -> str:
    """Everything is shown in the salon's time zone, whoever looks at it."""
    return str(current_app.extensions["pelubot_config"].timezone)
