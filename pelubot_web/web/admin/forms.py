from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from pelubot_web.models.user import ROLES
from pelubot_web.services.schedule_admin import (
    BUFFER_AFTER_RANGE,
    MAX_ADVANCE_RANGE,
    MIN_NOTICE_RANGE,
    SLOT_GRANULARITIES,
)
from pelubot_web.web.forms import BaseForm

SLUG = Regexp(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message=_l("Use lowercase letters, digits and hyphens.")
)
WEEKDAYS = [
    SelectChoice(0, _l("Monday")),
    SelectChoice(1, _l("Tuesday")),
    SelectChoice(2, _l("Wednesday")),
    SelectChoice(3, _l("Thursday")),
    SelectChoice(4, _l("Friday")),
    SelectChoice(5, _l("Saturday")),
    SelectChoice(6, _l("Sunday")),
]
ROLE_LABELS = {
    "stylist": _l("Stylist"),
    "admin": _l("Admin"),
    "ops": _l("Ops"),
    "reception": _l("Reception"),
}


class ServiceForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    slug = StringField(
        _l("Short name (in links)"), validators=[DataRequired(), Length(max=80), SLUG]
    )
    duration_min = IntegerField(
        _l("Duration (minutes)"), validators=[DataRequired(), NumberRange(min=5, max=480)]
    )
    price = DecimalField(
        _l("Price"), places=2, validators=[DataRequired(), NumberRange(min=0, max=100000)]
    )
    currency = StringField(
        _l("Currency"),
        default="EUR",
        validators=[DataRequired(), Regexp(r"^[A-Z]{3}$", message=_l("Three capital letters."))],
    )
    active = BooleanField(_l("Bookable"), default=True)


class StylistForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    slug = StringField(
        _l("Short name (in links)"), validators=[DataRequired(), Length(max=80), SLUG]
    )
    calendar_id = StringField(
        _l("Google Calendar id"),
        validators=[Optional(), Length(max=255), Regexp(r"^\S+$", message=_l("No spaces."))],
    )
    google_account = StringField(
        _l("Google Workspace account (domain-wide delegation)"),
        validators=[
            Optional(),
            Length(max=254),
            Regexp(r"^\S+@\S+$", message=_l("An e-mail address.")),
        ],
    )
    active = BooleanField(_l("Active (takes bookings)"), default=True)


class HoursForm(BaseForm):
    weekday = SelectField(_l("Day"), coerce=int, choices=WEEKDAYS)
    start_time = TimeField(_l("From"), validators=[DataRequired()])
    end_time = TimeField(_l("Until"), validators=[DataRequired()])


class ClosureForm(BaseForm):
    start_date = DateField(_l("First day"), validators=[DataRequired()])
    end_date = DateField(_l("Last day"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])


def _within(bounds: tuple[int, int]) -> NumberRange:
    return NumberRange(min=bounds[0], max=bounds[1])


class RulesForm(BaseForm):
    # InputRequired, not DataRequired: 0 is a valid buffer and notice.
    slot_granularity_min = SelectField(
        _l("Appointments start every"),
        coerce=int,
        choices=[SelectChoice(m, _l("%(min)s min", min=m)) for m in SLOT_GRANULARITIES],
    )
    buffer_after_min = IntegerField(
        _l("Free time after each appointment (minutes)"),
        validators=[InputRequired(), _within(BUFFER_AFTER_RANGE)],
    )
    min_notice_min = IntegerField(
        _l("Minimum notice (minutes)"), validators=[InputRequired(), _within(MIN_NOTICE_RANGE)]
    )
    max_advance_days = IntegerField(
        _l("Maximum advance (days)"), validators=[InputRequired(), _within(MAX_ADVANCE_RANGE)]
    )


class NewUserForm(BaseForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=10, max=200)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])
    stylist_id = SelectField(_l("Works as stylist"), coerce=int, choices=[])


class EditUserForm(BaseForm):
    role = SelectField(_l("Role"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES])
    stylist_id = SelectField(_l("Works as stylist"), coerce=int, choices=[])
    active = BooleanField(_l("Active (can log in)"))
    new_password = PasswordField(
        _l("New password (leave empty to keep it)"),
        validators=[Optional(), Length(min=10, max=200)],
    )


class WebhookForm(BaseForm):
    url = StringField(_l("URL"), validators=[DataRequired(), Length(max=2000)])
    secret = StringField(_l("Signing secret"), validators=[Optional(), Length(min=16, max=200)])
    events = SelectMultipleField(_l("Events (none: all)"), choices=[], validate_choice=True)
