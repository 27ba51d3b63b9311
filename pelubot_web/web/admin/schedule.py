"""Admin views of weekly working hours, salon closures and the booking rules."""

from __future__ import annotations

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from pelubot_web.services import catalog, catalog_admin, schedule_admin
from pelubot_web.services.errors import DomainError, NotFound
from pelubot_web.web.access import require_role
from pelubot_web.web.admin import bp
from pelubot_web.web.admin.forms import WEEKDAYS, ClosureForm, ConfirmForm, HoursForm, RulesForm
from pelubot_web.web.htmx import empty, is_htmx, redirect_to, render
from pelubot_web.web.slots import salon_today


@bp.route("/stylists/<int:stylist_id>/hours", methods=["GET", "POST"])
@login_required
@require_role("admin")
def hours(stylist_id: int) -> Response:
    try:
        stylist = catalog_admin.get_stylist(stylist_id)
    except NotFound:
        abort(404)
    form = HoursForm()
    status = 200
    if form.validate_on_submit():
        assert form.start_time.data is not None and form.end_time.data is not None
        try:
            schedule_admin.add_working_hours(
                stylist.id, form.weekday.data, form.start_time.data, form.end_time.data
            )
        except DomainError as error:
            status = form.show_domain_error(error)
        else:
            flash(_("Working hours added."), "success")
            return redirect_to(url_for(".hours", stylist_id=stylist.id))
    elif form.is_submitted():
        status = 422
    return render(
        "admin/hours.html",
        status=status,
        stylist=stylist,
        week=schedule_admin.weekly_hours(stylist.id),
        weekdays={choice.value: choice.label for choice in WEEKDAYS},
        form=form,
        delete_form=ConfirmForm(),
    )


@bp.post("/stylists/<int:stylist_id>/hours/<int:hours_id>/delete")
@login_required
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
@login_required
@require_role("admin")
def closures() -> Response:
    form = ClosureForm()
    status = 200
    if form.validate_on_submit():
        assert form.start_date.data is not None and form.end_date.data is not None
        try:
            schedule_admin.add_closure(form.start_date.data, form.end_date.data, form.reason.data)
        except DomainError as error:
            status = form.show_domain_error(error)
        else:
            flash(_("Closure added."), "success")
            return redirect_to(url_for(".closures"))
    elif form.is_submitted():
        status = 422
    return render(
        "admin/closures.html",
        status=status,
        form=form,
        closures=schedule_admin.list_closures(from_date=salon_today()),
        delete_form=ConfirmForm(),
    )


@bp.post("/closures/<int:closure_id>/delete")
@login_required
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
@login_required
@require_role("admin")
def rules() -> Response:
    form = RulesForm(obj=catalog.booking_rules())
    status = 200
    if form.validate_on_submit():
        assert form.buffer_after_min.data is not None
        assert form.min_notice_min.data is not None and form.max_advance_days.data is not None
        try:
            schedule_admin.update_booking_rules(
                slot_granularity_min=form.slot_granularity_min.data,
                buffer_after_min=form.buffer_after_min.data,
                min_notice_min=form.min_notice_min.data,
                max_advance_days=form.max_advance_days.data,
            )
        except DomainError as error:
            status = form.show_domain_error(error)
        else:
            flash(_("Booking rules saved."), "success")
            return redirect_to(url_for(".rules"))
    elif form.is_submitted():
        status = 422
    return render("admin/rules.html", partial="admin/_rules_form.html", status=status, form=form)
