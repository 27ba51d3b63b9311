"""Domain errors as sentences for people, in the current language.

Services raise errors with a stable ``code`` and the ``field`` they concern; this is the
one place that turns them into translated text for HTML views.
"""

from __future__ import annotations

from flask_babel import gettext as _

from pelubot_web.services.errors import DomainError


def domain_message(error: DomainError) -> str:
    code, field = error.code, error.field
    by_code = {
        "slot_taken": _("Sorry, that time has just been taken. Please choose another one."),
        "not_modifiable": _("This reservation can no longer be changed."),
        "outside_working_hours": _("The stylist does not work at that time."),
        "off_grid": _("Choose one of the times offered."),
        "too_soon": _("That time is too soon to book. Choose a later one."),
        "too_far_ahead": _("That date is too far ahead to book yet."),
        "service_not_offered": _("That stylist does not offer this service."),
        "invalid_phone": _("Enter a valid phone number, e.g. +34 600 123 456."),
        "not_found": _("It no longer exists. Reload the page."),
        "weak_password": _(
            "Choose a stronger password: at least 10 characters, not only spaces, not a common one."
        ),
    }
    if code in by_code:
        return by_code[code]
    by_field = {
        "slug": _("This short name is already used. Choose another."),
        "email": _("A user with this email already exists."),
        "start_time": _("This interval overlaps another one that day."),
        "end_time": _("The end must be after the start."),
        "end": _("The end must be after the start."),
        "end_date": _("The last day must not be before the first."),
        "role": _("You cannot remove your own admin access."),
        "stylist_id": _("Choose the stylist this user works as."),
        "password": _("The password must have at least 10 characters."),
        "current_password": _("The current password is not correct."),
        "new_password": _("The password must have at least 10 characters."),
    }
    if code == "conflict" and field == "start":
        return _("There are confirmed reservations in that time. Move or cancel them first.")
    if field in by_field:
        return by_field[field]
    return _("Check this value: %(detail)s", detail=error.message)
