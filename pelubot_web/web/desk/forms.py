from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from pelubot_web.web.forms import BaseForm
from pelubot_web.web.portal.forms import EMAIL_PATTERN


class DeskBookingForm(BaseForm):
    """A booking made at the desk: stylist and start come from the clicked cell; the
    customer is an existing record (``customer_id``) or typed in."""

    service = SelectField(_l("Service"), coerce=int, validators=[DataRequired()])
    stylist = HiddenField(validators=[DataRequired()])
    start = HiddenField(validators=[DataRequired()])
    customer_id = IntegerField(validators=[Optional()])
    name = StringField(_l("Customer name"), validators=[Optional(), Length(max=120)])
    phone = TelField(_l("Phone"), validators=[Optional(), Length(max=32)])
    email = EmailField(
        _l("Email (optional)"),
        validators=[
            Optional(),
            Length(max=254),
            Regexp(EMAIL_PATTERN, message=_l("Enter a valid email address.")),
        ],
    )
    notes = TextAreaField(_l("Notes"), validators=[Length(max=500)])


class MoveForm(BaseForm):
    day = HiddenField()
    slot = HiddenField(validators=[DataRequired(message=_l("Choose a time."))])
