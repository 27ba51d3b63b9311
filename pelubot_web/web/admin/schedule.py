"""Admin views of weekly working hours, salon closures and the booking rules."""

from __future__ import annotations

from flask import abort, flash, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from pelubot_web.services import catalog, catalog_admin, schedule_admin
from pelubot_web.services.errors import NotFound
from pelubot_web.web.access import require_role
from pelubot_web.web.admin import bp
from pelubot_web.web.admin.forms import WEEKDAYS, ClosureForm, HoursForm, RulesForm
from pelubot_web.web.forms import ConfirmForm, post_form, saved_redirect
from pelubot_web.web.htmx import empty, is_htmx, redirect_to, render
from pelubot_web.web.slots import salon_today


@bp.route("/stylists/<int:stylist_id>/hours", methods=["GET", "POST"])
@require_role("admin")
def hours(stylist_id: int) -> Response:
    try:
        stylist = catalog_admin.get_stylist(stylist_id)
    except NotFound:
        abort(404)
    form = HoursForm()

    def save() -> None:
        assert form.start_time.data is not None
        assert form.end_time.data is not None
        schedule_admin.add_working_hours(
            stylist.id, form.weekday.data, form.start_time.data, form.end_time.data
        )

    return post_form(
        form,
        save,
        done=lambda _saved: saved_redirect(
            _("Working hours added."), url_for(".hours", stylist_id=stylist.id)
        ),
        page=lambda status: render(
            "admin/hours.html",
            status=status,
            stylist=stylist,
            week=schedule_admin.weekly_hours(stylist.id),
            weekdays={choice.value: choice.label for choice in WEEKDAYS},
            form=form,
            delete_form=ConfirmForm(),
        ),
    )


@bp.post("/stylists/<int:stylist_id>/hours/<int:hours_id>/delete")
@require_role("admin")
def delete_hours(stylist_id: int, hours_id: int) -> Response:
    if ConfirmForm().validate_on_submit():
        try:
            schedule_admin.delete_working_hours(stylist_id, hours_id)
        except NotFound:
            abort(404)
        if is_htmx():
            return empty(trigger={"toast": {"message": _("Working hours removed.")}})
        flash(_("Working hours removed."), "success")
    return redirect_to(url_for(".hours", stylist_id=stylist_id))


@bp.route("/closures", methods=["GET", "POST"])
@require_role("admin")
def closures() -> Response:
    form = ClosureForm()

    def save() -> None:
        assert form.start_date.data is not None
        assert form.end_date.data is not None
        schedule_admin.add_closure(form.start_date.data, form.end_date.data, form.reason.data)

    return post_form(
        form,
        save,
        done=lambda _saved: saved_redirect(_("Closure added."), url_for(".closures")),
        page=lambda status: render(
            "admin/closures.html",
            status=status,
            form=form,
            closures=schedule_admin.list_closures(from_date=salon_today()),
            delete_form=ConfirmForm(),
        ),
    )


@bp.post("/closures/<int:closure_id>/delete")
@require_role("admin")
def delete_closure(closure_id: int) -> Response:
    if ConfirmForm().validate_on_submit():
        try:
            schedule_admin.delete_closure(closure_id)
        except NotFound:
            abort(404)
        if is_htmx():
            return empty(trigger={"toast": {"message": _("Closure removed.")}})
        flash(_("Closure removed."), "success")
    return redirect_to(url_for(".closures"))


@bp.route("/rules", methods=["GET", "POST"])
@require_role("admin")
def rules() -> Response:
    form = RulesForm(obj=catalog.booking_rules())

    def save() -> None:
        assert form.buffer_after_min.data is not None
        assert form.min_notice_min.data is not None
        assert form.max_advance_days.data is not None
        schedule_admin.update_booking_rules(
            slot_granularity_min=form.slot_granularity_min.data,
            buffer_after_min=form.buffer_after_min.data,
            min_notice_min=form.min_notice_min.data,
            max_advance_days=form.max_advance_days.data,
        )

    return post_form(
        form,
        save,
        done=lambda _saved: saved_redirect(_("Booking rules saved."), url_for(".rules")),
        page=lambda status: render(
            "admin/rules.html", partial="admin/_rules_form.html", status=status, form=form
        ),
    )
