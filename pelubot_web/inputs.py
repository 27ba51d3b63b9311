"""What PeluBot accepts from the outside, checked where input enters (one owner).

HTML views, URL converters, forms and the API's schemas all use these bounds, so a value
the database or Python's ``datetime`` cannot represent becomes a 4xx at the edge instead
of an ``OverflowError`` or a driver error deep inside:

- ids, page numbers and other integers: the database's 32-bit ``INTEGER`` columns;
- dates: this century (bookings never need more; far from ``date.min``/``date.max`` so
  week and month arithmetic around a bound cannot overflow);
- text: no control characters (NUL breaks PostgreSQL, escapes end up in Google events).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from werkzeug.routing import IntegerConverter
from werkzeug.routing.map import Map

__all__ = [
    "MAX_DB_INT",
    "MAX_DATE",
    "MIN_DATE",
    "DbIntConverter",
    "has_control_chars",
    "parse_aware_datetime",
    "parse_date",
    "parse_db_int",
]

MAX_DB_INT = 2**31 - 1  # INTEGER on PostgreSQL; SQLite would take 2**63 - 1
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)
# Line breaks and tabs are fine in multi-line text; every other C0 control and DEL is not.
ALLOWED_CONTROLS = frozenset("\n\r\t")


def has_control_chars(text: str) -> bool:
    return any((ord(ch) < 32 and ch not in ALLOWED_CONTROLS) or 127 <= ord(ch) < 160 for ch in text)


def parse_db_int(raw: str | int | None, *, minimum: int = 1) -> int | None:
    """A whole number the database can store (``minimum``..2**31-1), else None."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = raw.strip()
        if not text or len(text) > 11 or not text.lstrip("-").isdigit() or not text.isascii():
            return None
        value = int(text)
    return value if minimum <= value <= MAX_DB_INT else None


def parse_date(raw: str | None) -> date | None:
    """An ISO date (``YYYY-MM-DD``) within ``MIN_DATE``..``MAX_DATE``, else None."""
    if not raw or len(raw) > 10:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return day if MIN_DATE <= day <= MAX_DATE else None


def parse_aware_datetime(raw: str | None) -> datetime | None:
    """An ISO date-time with a UTC offset, within the date bounds in UTC, else None."""
    if not raw or len(raw) > 40:
        return None
    try:
        value = datetime.fromisoformat(raw)
        if value.tzinfo is None:
            return None
        in_utc = value.astimezone(UTC)  # extreme offsets near the bounds overflow here
    except (ValueError, OverflowError):
        return None
    return value if MIN_DATE <= in_utc.date() <= MAX_DATE else None


class DbIntConverter(IntegerConverter):
    """``<int:...>`` in routes: only ids the database can hold match (others are a 404)."""

    def __init__(self, map: Map, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]
