from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp

from pelubot_web.models.reservation import CLOSING_STATUSES, ReservationStatus
from pelubot_web.web.forms import BaseForm
from pelubot_web.web.slots import SlotField

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class NewReservationForm(BaseForm):
    # A booking error about the time, stylist or service is shown at the slot picker.
    domain_error_field = "slot"

    service = SelectField(_l("Service"), coerce=int, validators=[DataRequired()])
    day = DateField(_l("Day"), validators=[DataRequired()])
    slot = SlotField(missing=_l("Choose a time."))
    name = StringField(_l("Customer name"), validators=[DataRequired(), Length(max=120)])
    phone = TelField(_l("Phone"), validators=[DataRequired(), Length(max=32)])
    email = EmailField(
        _l("Email (optional)"),
        validators=[
            Optional(),
            Length(max=254),
            Regexp(EMAIL_PATTERN, message=_l("Enter a valid email address.")),
        ],
    )
    notes = TextAreaField(_l("Notes"), validators=[Length(max=500)])


class RescheduleForm(BaseForm):
    day = HiddenField()
    slot = SlotField()


class StatusForm(BaseForm):
    """Close a started appointment (portal and desk)."""

    status = HiddenField(
        validators=[
            DataRequired(message=_l("Choose completed or no-show.")),
            AnyOf(CLOSING_STATUSES, message=_l("Choose completed or no-show.")),
        ]
    )

    def done_message(self) -> str:
        """What closing the appointment did, in words."""
        if self.status.data == ReservationStatus.COMPLETED:
            return _("Marked as completed.")
        return _("Marked as no-show.")


class TimeOffForm(BaseForm):
    start = DateTimeLocalField(
        _l("From"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], validators=[DataRequired()]
    )
    end = DateTimeLocalField(
        _l("Until"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], validators=[DataRequired()]
    )
    reason = StringField(_l("Reason (optional)"), validators=[Length(max=200)])
