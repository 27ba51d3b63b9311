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
from pelubot_web.models.reservation import CLOSING_STATUSES, ReservationStatus
from pelubot_web.services import booking, catalog, customers
from pelubot_web.services.availability import available_slots, salon_tz
from pelubot_web.services.errors import Conflict, DomainError, NotFound
from pelubot_web.web.access import require_role
from pelubot_web.web.desk import STAFF, bp
from pelubot_web.web.desk.forms import DeskBookingForm, MoveForm
from pelubot_web.web.forms import ConfirmForm
from pelubot_web.web.htmx import is_htmx, redirect_to, render
from pelubot_web.web.messages import domain_message
from pelubot_web.web.portal.forms import StatusForm
from pelubot_web.web.slots import SlotChoice, day_choices, parse_day, parse_slot, slot_value

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
    return booking.CustomerInput(
        name=form.name.data or "", phone=form.phone.data or "", email=form.email.data or None
    )


def _book(form: DeskBookingForm, stylist: Stylist, start: datetime) -> Reservation | int:
    """The new reservation, or the status of the form's answer (errors on the form)."""
    if not form.customer_id.data and not (form.name.data and form.phone.data):
        form.form_errors.append(_("Pick a customer from the search or type a name and phone."))
        return 422
    try:
        return booking.create_reservation(
            service_id=form.service.data,
            stylist_id=stylist.id,
            start=start,
            customer=_customer_input(form),
            notes=(form.notes.data or "").strip() or None,
            source=SOURCE,
        )
    except DomainError as error:
        field = (error.field or "").rsplit(".", 1)[-1]
        error.field = field if field in ("name", "phone", "email", "service") else None
        form.add_domain_error(error, domain_message(error))
        return 409 if isinstance(error, Conflict) else 422


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
    status = 200
    if form.validate_on_submit():
        result = _book(form, stylist, start)
        if isinstance(result, Reservation):
            return _panel(result, _("Reservation created for %(when)s.", when=_when(result)))
        status = result
    elif form.is_submitted():
        status = 422
    trigger = REFRESH if status == 409 else None
    return render(
        "desk/new.html",
        partial="desk/_new_form.html",
        status=status,
        trigger=trigger,
        form=form,
        stylist=stylist,
        start=start,
    )


def _move_choices(reservation: Reservation, day: date) -> list[SlotChoice]:
    """Free starts that day with every stylist who does the service (its own time free)."""
    slots = available_slots(
        reservation.service_id, day, stylist_id=None, ignore_reservation_id=reservation.id
    )
    return [SlotChoice(slot_value(s), s) for s in slots]


def _move(reservation: Reservation, form: MoveForm) -> Reservation | tuple[str, int]:
    parsed = parse_slot(form.slot.data)
    if parsed is None:
        return _("Choose one of the times offered."), 422
    try:
        return booking.reschedule_reservation(
            reservation.uuid, start=parsed[1], stylist_id=parsed[0], source=SOURCE
        )
    except DomainError as error:
        return domain_message(error), 409 if isinstance(error, Conflict) else 422


@bp.route("/reservations/<reservation_uuid>/move", methods=["GET", "POST"])
@require_role(*STAFF)
def move(reservation_uuid: str) -> Response:
    reservation = _reservation(reservation_uuid)
    form = MoveForm()
    source = request.form if request.method == "POST" else request.args
    local_start = reservation.start_at.astimezone(salon_tz()).date()
    day = parse_day(source.get("day"), default=local_start) or local_start
    message, status = None, 200
    if form.validate_on_submit():
        result = _move(reservation, form)
        if isinstance(result, Reservation):
            return _panel(result, _("Reservation moved to %(when)s.", when=_when(result)))
        message, status = result
    elif form.is_submitted():
        message, status = _("Choose one of the times offered."), 422
    choices = (
        _move_choices(reservation, day) if reservation.status == ReservationStatus.CONFIRMED else []
    )
    return render(
        "desk/move.html",
        partial="desk/_move_form.html",
        status=status,
        trigger=REFRESH if status == 409 else None,
        r=reservation,
        form=form,
        message=message,
        day=day,
        days=day_choices(day),
        slot_choices=choices,
        selected_slot="",
        show_stylist=True,
        stylist_names={s.id: s.name for s in catalog.list_stylists(active_only=False)},
    )


@bp.post("/reservations/<reservation_uuid>/cancel")
@require_role(*STAFF)
def cancel(reservation_uuid: str) -> Response:
    reservation = _reservation(reservation_uuid)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        reservation = booking.cancel_reservation(reservation.uuid, source=SOURCE)
    except DomainError as error:
        return _panel(reservation, domain_message(error), status=409)
    return _panel(reservation, _("Reservation cancelled."))


@bp.post("/reservations/<reservation_uuid>/status")
@require_role(*STAFF)
def set_status(reservation_uuid: str) -> Response:
    reservation = _reservation(reservation_uuid)
    form = StatusForm()
    if not form.validate_on_submit() or form.status.data not in CLOSING_STATUSES:
        return _panel(reservation, _("Choose completed or no-show."), status=422)
    try:
        reservation = booking.set_status(reservation.uuid, form.status.data, source=SOURCE)
    except DomainError as error:
        return _panel(reservation, domain_message(error), status=409)
    done = (
        _("Marked as completed.")
        if form.status.data == ReservationStatus.COMPLETED
        else _("Marked as no-show.")
    )
    return _panel(reservation, done)
