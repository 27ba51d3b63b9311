from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
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
from pelubot_web.web.slots import SlotField


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

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if not self.customer_id.data and not (self.name.data and self.phone.data):
            self.form_errors.append(_("Pick a customer from the search or type a name and phone."))
            valid = False
        return valid


class MoveForm(BaseForm):
    day = HiddenField()
    slot = SlotField()
