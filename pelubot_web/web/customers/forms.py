from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

from pelubot_web.web.forms import BaseForm, optional_email_field


class ContactForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    phone = TelField(_l("Phone"), validators=[DataRequired(), Length(max=32)])
    email = optional_email_field()


class StaffNotesForm(BaseForm):
    notes = TextAreaField(
        _l("Staff notes (never shown to the customer)"), validators=[Length(max=4000)]
    )


class MergeForm(BaseForm):
    duplicate_id = IntegerField(
        _l("Duplicate to merge into this customer"),
        validators=[DataRequired(message=_l("Choose the duplicate.")), NumberRange(min=1)],
    )
