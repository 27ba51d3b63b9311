"""Agenda and reservation actions. htmx swaps one reservation (``_row.html``) in place;
without JavaScript every action is a plain form and a redirect back to the agenda."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import flash, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from pelubot_web.config import current_config
from pelubot_web.i18n import local_date, local_time
from pelubot_web.inputs import parse_date, parse_db_int
from pelubot_web.models import Reservation, Stylist, StylistService
from pelubot_web.services import booking, catalog, notify_status
from pelubot_web.services.agenda import reservations_between
from pelubot_web.web.access import require_role
from pelubot_web.web.forms import BaseForm, ConfirmForm, post_form, typed_customer, typed_notes
from pelubot_web.web.htmx import is_htmx, redirect_to, render
from pelubot_web.web.portal import bp
from pelubot_web.web.portal.forms import (
    NewReservationForm,
    RescheduleForm,
    StatusForm,
)
from pelubot_web.web.portal.scope import (
    can_switch_stylist,
    current_stylist,
    own_reservation,
    scope_args,
)
from pelubot_web.web.slots import (
    is_offered,
    parse_day,
    parse_slot,
    reschedule_context,
    salon_today,
    slot_choices,
)


def _tz() -> Any:
    return current_config().tz


def _agenda_range(view: str, day: date) -> tuple[date, date]:
    if view == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=7)
    return day, day + timedelta(days=1)


def agenda_reservations(stylist: Stylist, first: date, last_exclusive: date) -> list[Reservation]:
    """Every reservation of the stylist in the local date range."""
    start = datetime.combine(first, datetime.min.time(), _tz())
    end = datetime.combine(last_exclusive, datetime.min.time(), _tz())
    return reservations_between(stylist.id, start, end)


def _agenda_context() -> dict[str, Any]:
    stylist = current_stylist()
    view = "week" if request.args.get("view") == "week" else "day"
    day = parse_date(request.args.get("date")) or salon_today()
    first, last = _agenda_range(view, day)
    reservations = agenda_reservations(stylist, first, last)
    days: dict[date, list[Reservation]] = {
        first + timedelta(days=n): [] for n in range((last - first).days)
    }
    for r in reservations:
        days.setdefault(r.start_at.astimezone(_tz()).date(), []).append(r)
    step = timedelta(days=7 if view == "week" else 1)
    return {
        "stylist": stylist,
        "stylists": catalog.list_stylists(active_only=False) if can_switch_stylist() else [],
        "scope": scope_args(stylist),
        "view": view,
        "day": day,
        "days": days,
        "prev_day": day - step,
        "next_day": day + step,
        "today": salon_today(),
        "count": sum(1 for r in reservations if r.is_live),
    }


@bp.get("/")
@require_role("stylist", "admin")
def agenda() -> Response:
    return render("portal/agenda.html", partial="portal/_agenda.html", **_agenda_context())


def _row(reservation: Reservation, *, toast: str | None = None, refresh: bool = False) -> Response:
    trigger: dict[str, Any] = {}
    if toast:
        trigger["toast"] = {"message": toast}
    if refresh:
        trigger["agendaChanged"] = True
    return render(
        "portal/reservation.html",
        partial="portal/_row.html",
        trigger=trigger,
        r=reservation,
        scope=scope_args(reservation.stylist),
        sent=notify_status.for_reservation(reservation.id),
    )


def _back_to_agenda(reservation: Reservation, message: str, category: str = "success") -> Response:
    flash(message, category)
    day = reservation.start_at.astimezone(_tz()).date().isoformat()
    return redirect_to(url_for(".agenda", date=day, **scope_args(reservation.stylist)))


@bp.get("/reservations/<reservation_uuid>")
@require_role("stylist", "admin")
def show(reservation_uuid: str) -> Response:
    return _row(own_reservation(reservation_uuid))


@bp.route("/reservations/<reservation_uuid>/cancel", methods=["GET", "POST"])
@require_role("stylist", "admin")
def cancel(reservation_uuid: str) -> Response:
    reservation = own_reservation(reservation_uuid)
    form = ConfirmForm()

    def page(status: int) -> Response:
        if status != 200:
            return _fail(reservation, form, status)
        # Without JavaScript the confirmation is a page of its own.
        return render(
            "portal/confirm_cancel.html",
            r=reservation,
            form=form,
            scope=scope_args(reservation.stylist),
        )

    return post_form(
        form,
        lambda: booking.cancel_reservation(reservation.uuid, source="portal"),
        done=lambda cancelled: _done(cancelled, _("Reservation cancelled.")),
        page=page,
    )


@bp.post("/reservations/<reservation_uuid>/status")
@require_role("stylist", "admin")
def set_status(reservation_uuid: str) -> Response:
    reservation = own_reservation(reservation_uuid)
    form = StatusForm()
    return post_form(
        form,
        lambda: booking.set_status(reservation.uuid, form.status.data or "", source="portal"),
        done=lambda closed: _done(closed, form.done_message()),
        page=lambda status: _fail(reservation, form, status),
    )


def _done(reservation: Reservation, message: str, *, refresh: bool = False) -> Response:
    """After a successful action: the updated row for htmx, else back to the agenda."""
    if is_htmx():
        return _row(reservation, toast=message, refresh=refresh)
    return _back_to_agenda(reservation, message)


def _fail(reservation: Reservation, form: BaseForm, status: int) -> Response:
    """A refused action: the unchanged row with the reason (htmx), else back to the agenda."""
    message = form.first_error() or ""
    if is_htmx():
        response = _row(reservation, toast=message)
        response.status_code = status
        return response
    return _back_to_agenda(reservation, message, "error")


@bp.route("/reservations/<reservation_uuid>/reschedule", methods=["GET", "POST"])
@require_role("stylist", "admin")
def reschedule(reservation_uuid: str) -> Response:
    reservation = own_reservation(reservation_uuid)
    form = RescheduleForm()
    form.slot.stylist_id = reservation.stylist_id
    source = request.form if request.method == "POST" else request.args
    local_start = reservation.start_at.astimezone(_tz()).date()
    day = parse_day(source.get("day"), default=max(local_start, salon_today())) or salon_today()
    return post_form(
        form,
        lambda: booking.reschedule_reservation(
            reservation.uuid, start=form.slot.start, source="portal"
        ),
        done=lambda moved: _done(
            moved, _("Reservation moved to %(when)s.", when=_when(moved)), refresh=True
        ),
        page=lambda status: render(
            "portal/reschedule.html",
            partial="portal/_reschedule_form.html",
            status=status,
            r=reservation,
            form=form,
            message=form.first_error(),
            scope=scope_args(reservation.stylist),
            **reschedule_context(reservation, day),
        ),
    )


def _when(reservation: Reservation) -> str:
    return f"{local_date(reservation.start_at, 'medium')} {local_time(reservation.start_at)}"


@bp.route("/reservations/new", methods=["GET", "POST"])
@require_role("stylist", "admin")
def new() -> Response:
    stylist = current_stylist()
    offers = sorted(
        (o for o in stylist.offerings if o.service.active), key=lambda o: o.service.name
    )
    form = NewReservationForm(data={"day": salon_today()} if request.method == "GET" else None)
    form.service.choices = [
        (o.service_id, f"{o.service.name} · {o.effective_duration_min} min") for o in offers
    ]
    if request.method == "GET":
        form.service.data = parse_db_int(request.args.get("service")) or (
            offers[0].service_id if offers else None
        )
        form.day.data = parse_day(request.args.get("day"), default=salon_today())
    form.slot.stylist_id = stylist.id

    def save() -> Reservation:
        return booking.create_reservation(
            service_id=form.service.data,
            stylist_id=stylist.id,
            start=form.slot.start,
            customer=typed_customer(form),
            notes=typed_notes(form),
            source="portal",
        )

    return post_form(
        form,
        save,
        done=lambda created: _back_to_agenda(
            created, _("Reservation created for %(when)s.", when=_when(created))
        ),
        page=lambda status: _new_page(form, stylist, offers, status),
    )


def _new_page(
    form: NewReservationForm, stylist: Stylist, offers: list[StylistService], status: int
) -> Response:
    choices = []
    day = parse_day(form.day.data.isoformat()) if isinstance(form.day.data, date) else None
    if form.service.data in {o.service_id for o in offers} and day is not None:
        choices = slot_choices(form.service.data, day, stylist_id=stylist.id)
    selected = form.slot.data or ""
    parsed_selected = parse_slot(selected)
    if parsed_selected is None or not is_offered(choices, *parsed_selected):
        selected = ""
    return render(
        "portal/new.html",
        partial="portal/_new_slots.html" if request.method == "GET" else "portal/_new_form.html",
        status=status,
        form=form,
        stylist=stylist,
        scope=scope_args(stylist),
        slot_choices=choices,
        selected_slot=selected,
        show_stylist=False,
        stylist_names={},
        day=day,
    )
