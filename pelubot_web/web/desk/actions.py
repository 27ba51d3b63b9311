"""Desk actions: book a free cell, move a reservation (any stylist who does the service),
cancel, mark completed / no-show. With htmx each answer is the side panel plus a
``deskChanged`` trigger that refreshes the grid; a clash (409) shows the fresh grid and
says what happened. Without JavaScript they are plain forms and redirects."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from pelubot_web.i18n import local_date, local_time
from pelubot_web.inputs import parse_aware_datetime, parse_db_int
from pelubot_web.models import Reservation, Stylist
from pelubot_web.models.reservation import ReservationStatus
from pelubot_web.services import booking, catalog, customers
from pelubot_web.services.availability import available_slots, salon_tz
from pelubot_web.services.errors import NotFound
from pelubot_web.web.access import require_role
from pelubot_web.web.desk import STAFF, bp
from pelubot_web.web.desk.forms import DeskBookingForm, MoveForm
from pelubot_web.web.forms import ConfirmForm, post_form, typed_customer, typed_notes
from pelubot_web.web.htmx import is_htmx, redirect_to, render
from pelubot_web.web.portal.forms import StatusForm
from pelubot_web.web.slots import SlotChoice, day_choices, parse_day, slot_value

SOURCE = "portal"
REFRESH: dict[str, Any] = {"deskChanged": True}


def _reservation(reservation_uuid: str) -> Reservation:
    try:
        return booking.get_reservation(reservation_uuid)
    except NotFound:
        abort(404)


def _when(reservation: Reservation) -> str:
    return f"{local_date(reservation.start_at, 'medium')} {local_time(reservation.start_at)}"


def _panel(reservation: Reservation, message: str, *, status: int = 200) -> Response:
    """The details panel after an action (htmx), or back to the desk with a flash."""
    if not is_htmx():
        flash(message, "success" if status == 200 else "error")
        day = reservation.start_at.astimezone(salon_tz()).date().isoformat()
        return redirect_to(url_for("desk.day", date=day))
    trigger = {**REFRESH, "toast": {"message": message, "error": status != 200}}
    return render(
        "desk/_details.html",
        status=status,
        trigger=trigger,
        r=reservation,
        message=message,
        error=status != 200,
    )


def _form_page(template: str, partial: str, status: int, **context: Any) -> Response:
    """A desk form again; after a clash (409) the grid refreshes too."""
    trigger = REFRESH if status == 409 else None
    return render(template, partial=partial, status=status, trigger=trigger, **context)


def _cell(form: DeskBookingForm) -> tuple[Stylist, datetime]:
    """The stylist and start the form is about (404 / 400 when invented)."""
    stylist_id = parse_db_int(form.stylist.data)
    start = parse_aware_datetime(form.start.data)
    if stylist_id is None or start is None:
        abort(400)
    stylist = next((s for s in catalog.list_stylists() if s.id == stylist_id), None)
    if stylist is None:
        abort(404)
    return stylist, start


def _customer_input(form: DeskBookingForm) -> booking.CustomerInput:
    if form.customer_id.data:
        try:
            found = customers.get_customer(form.customer_id.data)
        except NotFound:
            abort(404)
        return booking.CustomerInput(name=found.name, phone=found.phone, email=found.email)
    return typed_customer(form)


@bp.route("/new", methods=["GET", "POST"])
@require_role(*STAFF)
def new() -> Response:
    source = request.form if request.method == "POST" else request.args
    form = DeskBookingForm(data={"stylist": source.get("stylist"), "start": source.get("start")})
    stylist, start = _cell(form)
    offers = sorted(
        (o for o in stylist.offerings if o.service.active), key=lambda o: o.service.name
    )
    form.service.choices = [
        (o.service_id, f"{o.service.name} · {o.effective_duration_min} min") for o in offers
    ]
    if request.method == "GET":
        wanted = parse_db_int(request.args.get("service"))
        offered = {o.service_id for o in offers}
        form.service.data = wanted if wanted in offered else next(iter(sorted(offered)), None)

    def save() -> Reservation:
        return booking.create_reservation(
            service_id=form.service.data,
            stylist_id=stylist.id,
            start=start,
            customer=_customer_input(form),
            notes=typed_notes(form),
            source=SOURCE,
        )

    return post_form(
        form,
        save,
        done=lambda created: _panel(
            created, _("Reservation created for %(when)s.", when=_when(created))
        ),
        page=lambda status: _form_page(
            "desk/new.html",
            "desk/_new_form.html",
            status,
            form=form,
            stylist=stylist,
            start=start,
        ),
    )


def _move_choices(reservation: Reservation, day: date) -> list[SlotChoice]:
    """Free starts that day with every stylist who does the service (its own time free)."""
    slots = available_slots(
        reservation.service_id, day, stylist_id=None, ignore_reservation_id=reservation.id
    )
    return [SlotChoice(slot_value(s), s) for s in slots]


@bp.route("/reservations/<reservation_uuid>/move", methods=["GET", "POST"])
@require_role(*STAFF)
def move(reservation_uuid: str) -> Response:
    reservation = _reservation(reservation_uuid)
    form = MoveForm()
    source = request.form if request.method == "POST" else request.args
    local_start = reservation.start_at.astimezone(salon_tz()).date()
    day = parse_day(source.get("day"), default=local_start) or local_start

    def save() -> Reservation:
        stylist_id, start = form.slot.picked
        return booking.reschedule_reservation(
            reservation.uuid, start=start, stylist_id=stylist_id, source=SOURCE
        )

    def page(status: int) -> Response:
        confirmed = reservation.status == ReservationStatus.CONFIRMED
        return _form_page(
            "desk/move.html",
            "desk/_move_form.html",
            status,
            r=reservation,
            form=form,
            message=form.first_error(),
            day=day,
            days=day_choices(day),
            slot_choices=_move_choices(reservation, day) if confirmed else [],
            selected_slot="",
            show_stylist=True,
            stylist_names={s.id: s.name for s in catalog.list_stylists(active_only=False)},
        )

    return post_form(
        form,
        save,
        done=lambda moved: _panel(moved, _("Reservation moved to %(when)s.", when=_when(moved))),
        page=page,
    )


@bp.post("/reservations/<reservation_uuid>/cancel")
@require_role(*STAFF)
def cancel(reservation_uuid: str) -> Response:
    reservation = _reservation(reservation_uuid)
    form = ConfirmForm()
    return post_form(
        form,
        lambda: booking.cancel_reservation(reservation.uuid, source=SOURCE),
        done=lambda cancelled: _panel(cancelled, _("Reservation cancelled.")),
        page=lambda status: _panel(reservation, form.first_error() or "", status=status),
    )


@bp.post("/reservations/<reservation_uuid>/status")
@require_role(*STAFF)
def set_status(reservation_uuid: str) -> Response:
    reservation = _reservation(reservation_uuid)
    form = StatusForm()
    return post_form(
        form,
        lambda: booking.set_status(reservation.uuid, form.status.data or "", source=SOURCE),
        done=lambda closed: _panel(closed, form.done_message()),
        page=lambda status: _panel(reservation, form.first_error() or "", status=status),
    )
