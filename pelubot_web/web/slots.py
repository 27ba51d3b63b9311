"""The slot picker shared by public booking and the portal.

A slot travels in forms as ``"<stylist_id>|<ISO start>"`` and is always re-checked
against freshly computed availability: a client cannot invent a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Form, HiddenField
from wtforms.validators import DataRequired, ValidationError

from pelubot_web.config import current_config
from pelubot_web.inputs import parse_aware_datetime, parse_date, parse_db_int
from pelubot_web.models import Reservation
from pelubot_web.models.types import utcnow
from pelubot_web.services.availability import Slot, available_slots

DAYS_SHOWN = 7


def slot_value(slot: Slot) -> str:
    return f"{slot.stylist_id}|{slot.start.isoformat()}"


def parse_slot(raw: str | None) -> tuple[int, datetime] | None:
    """``(stylist_id, aware start)`` from a slot value, or None when malformed."""
    if not raw or "|" not in raw or len(raw) > 80:
        return None
    stylist_part, start_part = raw.split("|", 1)
    stylist_id = parse_db_int(stylist_part)
    start = parse_aware_datetime(start_part)
    if stylist_id is None or start is None:
        return None
    return stylist_id, start


NOT_OFFERED = _l("Choose one of the times offered.")


class SlotField(HiddenField):
    """A picked slot: required, well formed and, once the view sets ``stylist_id``, that
    stylist's (their own agenda, a booking that keeps its stylist). Whether it is still
    free is the booking service's to say."""

    def __init__(self, *, missing: Any = NOT_OFFERED, **kwargs: Any) -> None:
        super().__init__(validators=[DataRequired(message=missing)], **kwargs)
        self.stylist_id: int | None = None

    @property
    def parsed(self) -> tuple[int, datetime] | None:
        """``(stylist_id, aware start)``, or None when malformed."""
        return parse_slot(self.data)

    @property
    def picked(self) -> tuple[int, datetime]:
        """``(stylist_id, start)`` of a validated slot."""
        parsed = self.parsed
        assert parsed is not None, "read after validation"
        return parsed

    @property
    def start(self) -> datetime:
        """The start of a validated slot."""
        return self.picked[1]

    def post_validate(self, form: Form, validation_stopped: bool) -> None:
        if validation_stopped:
            return
        parsed = self.parsed
        if parsed is None or self.stylist_id not in (None, parsed[0]):
            raise ValidationError(str(NOT_OFFERED))


def salon_today() -> date:
    return utcnow().astimezone(current_config().tz).date()


def parse_day(raw: str | None, default: date | None = None) -> date | None:
    """An ISO date from a form, never before today (the salon's today); a malformed or
    out-of-range one (``inputs.parse_date``) counts as not given."""
    today = salon_today()
    day = (parse_date(raw) or default) if raw else default
    if day is not None and day < today:
        day = today
    return day


def day_choices(selected: date | None) -> list[date]:
    """A week of days to pick from, starting today or at the chosen week."""
    today = salon_today()
    first = today if selected is None or selected < today + timedelta(days=DAYS_SHOWN) else selected
    return [first + timedelta(days=n) for n in range(DAYS_SHOWN)]


@dataclass(frozen=True)
class SlotChoice:
    value: str
    slot: Slot


def slot_choices(
    service_id: int,
    day: date,
    *,
    stylist_id: int | None,
    ignore_reservation_id: int | None = None,
) -> list[SlotChoice]:
    """Free slots that day. With no stylist chosen, one entry per start time."""
    slots = available_slots(
        service_id, day, stylist_id=stylist_id, ignore_reservation_id=ignore_reservation_id
    )
    seen: set[datetime] = set()
    choices = []
    for slot in slots:
        if stylist_id is None:
            if slot.start in seen:
                continue
            seen.add(slot.start)
        choices.append(SlotChoice(slot_value(slot), slot))
    return choices


def is_offered(choices: list[SlotChoice], stylist_id: int, start: datetime) -> bool:
    """Is this exact (stylist, start) among the free slots?"""
    return any(c.slot.stylist_id == stylist_id and c.slot.start == start for c in choices)


def reschedule_context(reservation: Reservation, day: date) -> dict[str, Any]:
    """The slot picker for moving a reservation: its stylist's free times that day,
    counting its own current time as free."""
    return {
        "day": day,
        "days": day_choices(day),
        "slot_choices": slot_choices(
            reservation.service_id,
            day,
            stylist_id=reservation.stylist_id,
            ignore_reservation_id=reservation.id,
        ),
        "selected_slot": "",
        "show_stylist": False,
        "stylist_names": {},
    }
