from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, IntegerField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from pelubot_web.web.forms import BaseForm
from pelubot_web.web.portal.forms import EMAIL_PATTERN


class ContactForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    phone = TelField(_l("Phone"), validators=[DataRequired(), Length(max=32)])
    email = EmailField(
        _l("Email (optional)"),
        validators=[
            Optional(),
            Length(max=254),
            Regexp(EMAIL_PATTERN, message=_l("Enter a valid email address.")),
        ],
    )


class StaffNotesForm(BaseForm):
    notes = TextAreaField(
        _l("Staff notes (never shown to the customer)"), validators=[Length(max=4000)]
    )


class MergeForm(BaseForm):
    duplicate_id = IntegerField(
        _l("Duplicate to merge into this customer"),
        validators=[DataRequired(message=_l("Choose the duplicate.")), NumberRange(min=1)],
    )
