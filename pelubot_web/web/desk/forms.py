from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from pelubot_web.web.forms import BaseForm, optional_email_field


class DeskBookingForm(BaseForm):
    """A booking made at the desk: stylist and start come from the clicked cell; the
    customer is an existing record (``customer_id``) or typed in."""

    service = SelectField(_l("Service"), coerce=int, validators=[DataRequired()])
    stylist = HiddenField(validators=[DataRequired()])
    start = HiddenField(validators=[DataRequired()])
    customer_id = IntegerField(validators=[Optional()])
    name = StringField(_l("Customer name"), validators=[Optional(), Length(max=120)])
    phone = TelField(_l("Phone"), validators=[Optional(), Length(max=32)])
    email = optional_email_field()
    notes = TextAreaField(_l("Notes"), validators=[Length(max=500)])


class MoveForm(BaseForm):
    day = HiddenField()
    slot = HiddenField(validators=[DataRequired(message=_l("Choose a time."))])
