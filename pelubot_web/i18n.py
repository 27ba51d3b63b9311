"""Locale and time zone selection (Spanish by default, English on request) and the
Jinja filters that show dates, times and prices for the locale in the salon time zone."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask, request, session
from flask_babel import format_currency, format_date, format_datetime, format_time, get_locale

from pelubot_web.config import current_config

SUPPORTED_LOCALES = ("es", "en")
DEFAULT_LOCALE = "es"
LOCALE_NAMES = {"es": "Español", "en": "English"}


def select_locale() -> str:
    """Explicit choice (``?lang=`` or the session) first, then Accept-Language, then Spanish."""
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in SUPPORTED_LOCALES:
        return str(chosen)
    best = request.accept_languages.best_match(SUPPORTED_LOCALES)
    return best or DEFAULT_LOCALE


def select_timezone() -> str:
    """Everything is shown in the salon's time zone, whoever looks at it."""
    return str(current_config().timezone)


def current_locale() -> str:
    locale = get_locale()
    return str(locale.language) if locale is not None else DEFAULT_LOCALE


def money(cents: int | None, currency: str = "EUR") -> str:
    """Integer cents as a price for the locale: ``32,00 €`` (es), ``€32.00`` (en)."""
    if cents is None:
        return ""
    return format_currency(Decimal(cents) / 100, currency)


def local_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """An aware datetime shown in the salon time zone (Flask-Babel converts it)."""
    return "" if value is None else format_datetime(value, fmt)


def local_time(value: datetime | None, fmt: str = "short") -> str:
    return "" if value is None else format_time(value, fmt)


def local_date(value: date | datetime | None, fmt: str = "full") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(current_config().tz).date()
    return format_date(value, fmt)


def local_iso_date(value: datetime) -> str:
    """The salon-local date of an instant, as ``YYYY-MM-DD`` (for links)."""
    return value.astimezone(current_config().tz).date().isoformat()


def duration(seconds: float | None) -> str:
    """A short age like ``4 s``, ``12 min`` or ``3 h`` (units are the same in es and en)."""
    if seconds is None:
        return "—"
    seconds = max(0.0, float(seconds))
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def init_app(app: Flask) -> None:
    """Register the formatting filters and the locale helpers for templates."""
    app.add_template_filter(money, "money")
    app.add_template_filter(local_datetime, "datetime")
    app.add_template_filter(local_time, "time")
    app.add_template_filter(local_date, "date")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(local_iso_date, "isodate")
    app.add_template_global(current_locale, "current_locale")
    app.jinja_env.globals["LOCALE_NAMES"] = LOCALE_NAMES
