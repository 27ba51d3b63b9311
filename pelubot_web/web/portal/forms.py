from __future__ import annotations

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
from wtforms.validators import DataRequired, Length, Optional, Regexp

from pelubot_web.web.forms import BaseForm

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class NewReservationForm(BaseForm):
    service = SelectField(_l("Service"), coerce=int, validators=[DataRequired()])
    day = DateField(_l("Day"), validators=[DataRequired()])
    slot = HiddenField(validators=[DataRequired(message=_l("Choose a time."))])
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
    slot = HiddenField(validators=[DataRequired(message=_l("Choose a time."))])


class StatusForm(BaseForm):
    status = HiddenField(validators=[DataRequired()])


class TimeOffForm(BaseForm):
    start = DateTimeLocalField(
        _l("From"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], validators=[DataRequired()]
    )
    end = DateTimeLocalField(
        _l("Until"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], validators=[DataRequired()]
    )
    reason = StringField(_l("Reason (optional)"), validators=[Length(max=200)])
