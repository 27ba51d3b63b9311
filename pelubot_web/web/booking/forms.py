from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from pelubot_web.web.forms import BaseForm
from pelubot_web.web.slots import SlotField


class CustomerDetailsForm(BaseForm):
    """The last step: who is coming. ``website`` is a honeypot people never see."""

    # A booking error about the time, stylist or service is shown at the slot picker.
    domain_error_field = "slot"

    service = HiddenField(validators=[Regexp(r"^[0-9]{1,9}$")])
    stylist = HiddenField()
    day = HiddenField()
    slot = SlotField(missing=_l("Choose a time."))
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    phone = TelField(_l("Mobile phone"), validators=[DataRequired(), Length(max=32)])
    email = EmailField(
        _l("Email (optional)"),
        validators=[
            Optional(),
            Length(max=254),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter a valid email address.")),
        ],
    )
    notes = TextAreaField(_l("Anything we should know? (optional)"), validators=[Length(max=500)])
    website = StringField(_l("Leave this field empty"))

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.website.data:
            # Honeypot filled: a bot. Nothing is booked; the answer gives nothing away.
            self.form_errors.append(_("We could not take this booking. Please try again."))
            valid = False
        return valid


class PickSlotForm(BaseForm):
    """Reschedule from the manage page: a new slot that day."""

    day = HiddenField()
    slot = SlotField()
