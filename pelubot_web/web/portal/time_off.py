"""A stylist's own time off: list, add, remove (admins manage anyone's)."""

from __future__ import annotations

from datetime import datetime

from flask import flash, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from pelubot_web.config import current_config
from pelubot_web.models.types import utcnow
from pelubot_web.services import schedule_admin
from pelubot_web.services.errors import NotFound
from pelubot_web.web.access import require_role
from pelubot_web.web.forms import ConfirmForm, post_form, saved_redirect
from pelubot_web.web.htmx import empty, is_htmx, redirect_to, render
from pelubot_web.web.portal import bp
from pelubot_web.web.portal.forms import TimeOffForm
from pelubot_web.web.portal.scope import current_stylist, scope_args


def _aware(value: datetime) -> datetime:
    """A wall-clock time typed in the portal, read in the salon time zone."""
    return value.replace(tzinfo=current_config().tz)


@bp.route("/time-off", methods=["GET", "POST"])
@require_role("stylist", "admin")
def time_off() -> Response:
    stylist = current_stylist()
    form = TimeOffForm()

    def save() -> None:
        assert form.start.data is not None
        assert form.end.data is not None
        schedule_admin.add_time_off(
            stylist.id, _aware(form.start.data), _aware(form.end.data), form.reason.data
        )

    return post_form(
        form,
        save,
        done=lambda _saved: saved_redirect(
            _("Time off added."), url_for(".time_off", **scope_args(stylist))
        ),
        page=lambda status: render(
            "portal/time_off.html",
            partial="portal/_time_off_form.html",
            status=status,
            form=form,
            stylist=stylist,
            scope=scope_args(stylist),
            entries=schedule_admin.list_time_off(stylist.id, utcnow()),
            delete_form=ConfirmForm(),
        ),
    )


@bp.post("/time-off/<int:time_off_id>/delete")
@require_role("stylist", "admin")
def delete_time_off(time_off_id: int) -> Response:
    stylist = current_stylist()
    form = ConfirmForm()
    if not form.validate_on_submit():
        return redirect_to(url_for(".time_off", **scope_args(stylist)))
    try:
        schedule_admin.delete_time_off(stylist.id, time_off_id)
    except NotFound:
        flash(_("It no longer exists. Reload the page."), "error")
    else:
        if is_htmx():
            return empty(trigger={"toast": {"message": _("Time off removed.")}})
        flash(_("Time off removed."), "success")
    return redirect_to(url_for(".time_off", **scope_args(stylist)))
