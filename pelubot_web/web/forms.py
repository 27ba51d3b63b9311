"""Form helpers shared by the HTML blueprints."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, ClassVar, Protocol, TypeVar

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, Field, HiddenField
from wtforms.validators import Length, Optional, Regexp

from pelubot_web.inputs import MAX_DATE, MAX_DB_INT, MIN_DATE, has_control_chars
from pelubot_web.services.booking import CustomerInput
from pelubot_web.services.errors import Conflict, DomainError
from pelubot_web.web.htmx import redirect_to
from pelubot_web.web.messages import domain_message

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def optional_email_field(label: Any = None) -> EmailField:
    """An email a customer may leave empty; a typed one must look like an address."""
    return EmailField(
        label or _l("Email (optional)"),
        validators=[
            Optional(),
            Length(max=254),
            Regexp(EMAIL_PATTERN, message=_l("Enter a valid email address.")),
        ],
    )


T = TypeVar("T")


class BaseForm(FlaskForm):
    """A FlaskForm (CSRF included) that can also carry errors not tied to one field."""

    #: Where a service error goes when it names no visible field of this form (e.g. the
    #: slot picker for a booking's ``start``); None: above the form.
    domain_error_field: ClassVar[str | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.form_errors: list[str] = []

    def validate(self, extra_validators: Any = None) -> bool:
        """The field validators, then the edge rules every form shares: no control
        characters in any text (NUL breaks PostgreSQL, escapes reach Google), integers
        the database can hold and dates within ``inputs.MIN_DATE``..``MAX_DATE``.
        A refusal is a field error (422)."""
        valid = super().validate(extra_validators)
        for field in self:
            message = _edge_error(field)
            if message is not None:
                _append_error(field, message)
                valid = False
        return valid

    def add_domain_error(self, error: DomainError, message: str) -> None:
        """Show a service error next to its field when the form shows that field, else on
        ``domain_error_field`` or above the form. Hidden fields never show an error."""
        # A nested field (``customer.phone``) goes on the form field of its last part.
        name = error.field.rsplit(".", 1)[-1] if error.field else None
        target = self._fields.get(name) if name else None
        if target is None or isinstance(target, HiddenField):
            fallback = self.domain_error_field
            target = self._fields.get(fallback) if fallback else None
        if target is not None:
            _append_error(target, message)
        else:
            self.form_errors.append(message)

    def show_domain_error(self, error: DomainError) -> int:
        """Show a service error in words; returns the response status for it:
        409 when the change clashes with existing data, 422 when the input is wrong."""
        self.add_domain_error(error, domain_message(error))
        return 409 if isinstance(error, Conflict) else 422

    def first_error(self) -> str | None:
        """The first error, for pages that show one message rather than one per field."""
        errors = [*self.form_errors, *(e for field in self for e in field.errors)]
        return str(errors[0]) if errors else None


class ConfirmForm(BaseForm):
    """CSRF only: every confirm button (cancel, delete, toggle, retry)."""


def post_form(
    form: BaseForm,
    save: Callable[[], T],
    *,
    done: Callable[[T], Response],
    page: Callable[[int], Response],
) -> Response:
    """The sequence of every form view: validate -> service call -> domain error -> answer.

    Not submitted: ``page(200)``. Invalid input: ``page(422)`` with the field errors.
    ``save()`` (the one service call) raising a domain error: the error on the form and
    ``page(409)`` for a clash with existing data, else ``page(422)``. Saved: ``done(result)``.
    """
    if not form.is_submitted():
        return page(200)
    if not form.validate():
        return page(422)
    try:
        result = save()
    except DomainError as error:
        return page(form.show_domain_error(error))
    return done(result)


class CustomerFields(Protocol):
    """A booking form's customer: typed by staff or by the customer."""

    name: Field
    phone: Field
    email: Field
    notes: Field


def typed_customer(form: CustomerFields) -> CustomerInput:
    """The customer as typed (the booking service normalises the phone)."""
    return CustomerInput(
        name=form.name.data or "", phone=form.phone.data or "", email=form.email.data or None
    )


def typed_notes(form: CustomerFields) -> str | None:
    """The notes, or None when only blanks were typed."""
    return (form.notes.data or "").strip() or None


def saved_redirect(message: str, location: str) -> Response:
    """After a successful form post: a success message, then 303 (htmx: ``HX-Redirect``)."""
    flash(message, "success")
    return redirect_to(location)


def _edge_error(field: Field) -> str | None:
    data = field.data
    texts: Sequence[object] = data if isinstance(data, list) else [data]
    if any(isinstance(t, str) and has_control_chars(t) for t in texts):
        return str(_l("Control characters are not allowed."))
    if isinstance(data, int) and not isinstance(data, bool) and abs(data) > MAX_DB_INT:
        return str(_l("Enter a smaller number."))
    day = data.date() if isinstance(data, datetime) else data
    if isinstance(day, date) and not MIN_DATE <= day <= MAX_DATE:
        return str(
            _l("Enter a date between %(first)s and %(last)s.", first=MIN_DATE, last=MAX_DATE)
        )
    return None


def _append_error(field: Field, message: str) -> None:
    if isinstance(field.errors, tuple):
        field.errors = list(field.errors)
    field.errors.append(message)
