"""Form helpers shared by the HTML blueprints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import flash
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from pelubot_web.services.errors import Conflict, DomainError
from pelubot_web.web.htmx import redirect_to
from pelubot_web.web.messages import domain_message

T = TypeVar("T")


class BaseForm(FlaskForm):
    """A FlaskForm (CSRF included) that can also carry errors not tied to one field."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.form_errors: list[str] = []

    def add_domain_error(self, error: DomainError, message: str) -> None:
        """Show a service error next to its field when the form has that field."""
        # A nested field (``customer.phone``) goes on the form field of its last part.
        name = error.field.rsplit(".", 1)[-1] if error.field else None
        target = getattr(self, name, None) if name else None
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
        return 409 if isinstance(error, Conflict) else 422


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


def saved_redirect(message: str, location: str) -> Response:
    """After a successful form post: a success message, then 303 (htmx: ``HX-Redirect``)."""
    flash(message, "success")
    return redirect_to(location)
