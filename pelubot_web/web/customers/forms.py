from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

from pelubot_web.services.customers import ContactInput
from pelubot_web.services.errors import DomainError, NotFound
from pelubot_web.web.forms import BaseForm, optional_email_field


class ContactForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    phone = TelField(_l("Phone"), validators=[DataRequired(), Length(max=32)])
    email = optional_email_field()

    def contact(self) -> ContactInput:
        return ContactInput(
            name=self.name.data or "", phone=self.phone.data or "", email=self.email.data or None
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

    def show_domain_error(self, error: DomainError) -> int:
        if isinstance(error, NotFound):  # the number typed is nobody's
            self.duplicate_id.errors = [_("There is no customer with that number.")]
            return 422
        return super().show_domain_error(error)
