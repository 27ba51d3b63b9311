"""Form helpers shared by the HTML blueprints."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms.validators import Length, Optional, Regexp

from pelubot_web.services.errors import DomainError
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


class BaseForm(FlaskForm):
    """A FlaskForm (CSRF included) that can also carry errors not tied to one field."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.form_errors: list[str] = []

    def add_domain_error(self, error: DomainError, message: str) -> None:
        """Show a service error next to its field when the form has that field."""
        target = getattr(self, error.field, None) if error.field else None
        if target is not None and hasattr(target, "errors"):
            if isinstance(target.errors, tuple):
                target.errors = list(target.errors)
            target.errors.append(message)
        else:
            self.form_errors.append(message)

    def show_domain_error(self, error: DomainError) -> int:
        """Show a service error in words; returns the response status for it:
        409 when the change clashes with existing data, 422 when the input is wrong."""
        self.add_domain_error(error, domain_message(error))
        return 409 if error.code == "conflict" else 422
