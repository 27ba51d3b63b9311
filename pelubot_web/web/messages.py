"""Domain errors as sentences for people, in the current language.

Services raise errors with a stable ``code`` (and the ``field`` they concern, which only
says where on a form the text goes); this is the one place that turns codes into
translated text for HTML views.
"""

from __future__ import annotations

from flask_babel import gettext as _

from pelubot_web.services.errors import DomainError


def domain_message(error: DomainError) -> str:
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
        "nonexistent_local_time": _(
            "That time does not exist that day: the clocks change. Choose another time."
        ),
        "slug_taken": _("This short name is already used. Choose another."),
        "email_taken": _("A user with this email already exists."),
        "hours_overlap": _("This interval overlaps another one that day."),
        "end_before_start": _("The end must be after the start."),
        "last_day_before_first": _("The last day must not be before the first."),
        "own_admin_access": _("You cannot remove your own admin access."),
        "stylist_required": _("Choose the stylist this user works as."),
        "weak_password": _(
            "Choose a stronger password: at least 10 characters, not only spaces, not a common one."
        ),
        "wrong_password": _("The current password is not correct."),
        "reservations_in_the_way": _(
            "There are confirmed reservations in that time. Move or cancel them first."
        ),
    }
    if error.code in by_code:
        return by_code[error.code]
    return _("Check this value: %(detail)s", detail=error.message)
