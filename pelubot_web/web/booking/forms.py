from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from pelubot_web.web.forms import BaseForm


class CustomerDetailsForm(BaseForm):
    """The last step: who is coming. ``website`` is a honeypot people never see."""

    service = HiddenField()
    stylist = HiddenField()
    day = HiddenField()
    slot = HiddenField(validators=[DataRequired(message=_l("Choose a time."))])
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


class PickSlotForm(BaseForm):
    """Reschedule from the manage page: a new slot that day."""

    day = HiddenField()
    slot = HiddenField(validators=[DataRequired(message=_l("Choose a time."))])
