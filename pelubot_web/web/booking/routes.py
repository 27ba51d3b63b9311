"""``/book``: the public booking flow and the customer's manage-my-booking pages.

Every step is a plain GET form (works with JavaScript off); htmx only swaps the flow
panel in place. The final POST re-checks the slot against fresh availability through
the booking service, so a slot taken meanwhile yields a message and new slots.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from werkzeug.wrappers import Response

from pelubot_web.config import current_config
from pelubot_web.extensions import csrf, limiter
from pelubot_web.i18n import current_locale
from pelubot_web.inputs import parse_db_int
from pelubot_web.models import Reservation, Service, Stylist
from pelubot_web.services import booking, catalog, manage_links, notify_prefs
from pelubot_web.services.errors import NotFound
from pelubot_web.web.booking import bp
from pelubot_web.web.booking.forms import CustomerDetailsForm, PickSlotForm
from pelubot_web.web.forms import (
    ConfirmForm,
    post_form,
    saved_redirect,
    typed_customer,
    typed_notes,
)
from pelubot_web.web.htmx import redirect_to, render
from pelubot_web.web.slots import (
    day_choices,
    is_offered,
    parse_day,
    parse_slot,
    reschedule_context,
    salon_today,
    slot_choices,
)

ANY = "any"


def _booking_rate_limit() -> str:
    return str(current_config().booking_rate_limit)


limit_posts = limiter.limit(_booking_rate_limit, methods=["POST"], key_func=get_remote_address)


def _int(raw: str | None) -> int | None:
    return parse_db_int(raw)


def _flow(args: Mapping[str, str], message: str | None = None) -> dict[str, Any]:
    """Everything the flow panel shows for the choices made so far."""
    services = catalog.list_services()
    service: Service | None = next((s for s in services if s.id == _int(args.get("service"))), None)
    stylists: list[Stylist] = catalog.list_stylists(service_id=service.id) if service else []
    stylist_param = args.get("stylist") or ""
    stylist: Stylist | None = next((s for s in stylists if str(s.id) == stylist_param), None)
    stylist_chosen = service is not None and (stylist is not None or stylist_param == ANY)
    day: date | None = parse_day(args.get("day"), default=salon_today()) if stylist_chosen else None
    choices = []
    if service is not None and stylist_chosen and day is not None:
        choices = slot_choices(service.id, day, stylist_id=stylist.id if stylist else None)
    selected = args.get("slot") or ""
    parsed = parse_slot(selected)
    if selected and (parsed is None or not is_offered(choices, *parsed)):
        # Taken since the page was shown, or never valid: ask again with fresh slots.
        message = message or _("That time is no longer available. Please choose another one.")
        selected, parsed = "", None
    chosen_stylist = stylist
    price_cents: int | None = service.price_cents if service else None
    duration_min: int | None = service.duration_min if service else None
    if parsed is not None and service is not None:
        chosen_stylist = next((s for s in stylists if s.id == parsed[0]), None)
        offer = catalog.offering(parsed[0], service.id)
        price_cents = offer.effective_price_cents
        duration_min = offer.effective_duration_min
    return {
        "slots_in_details": False,
        "services": services,
        "service": service,
        "stylists": stylists,
        "stylist_param": stylist_param if stylist_chosen else "",
        "chosen_stylist": chosen_stylist,
        "day": day,
        "days": day_choices(day) if day else [],
        "slot_choices": choices,
        "selected_slot": selected,
        "slot_start": parsed[1] if parsed else None,
        "stylist_names": {s.id: s.name for s in stylists},
        "show_stylist": stylist_param == ANY,
        "price_cents": price_cents,
        "duration_min": duration_min,
        "message": message,
    }


def _details_form(flow: dict[str, Any], formdata: Any = None) -> CustomerDetailsForm:
    form = CustomerDetailsForm(formdata=formdata)
    if formdata is None:
        form.service.data = str(flow["service"].id) if flow["service"] else ""
        form.stylist.data = flow["stylist_param"]
        form.day.data = flow["day"].isoformat() if flow["day"] else ""
        form.slot.data = flow["selected_slot"]
    return form


@bp.get("/")
def start() -> Response:
    flow = _flow(request.args)
    return render(
        "booking/book.html", partial="booking/_flow.html", form=_details_form(flow), **flow
    )


@bp.post("/")
@limit_posts
def confirm() -> Response:
    form = CustomerDetailsForm()
    token, token_hash = manage_links.new_manage_token()

    def save() -> Reservation:
        stylist_id, start_at = form.slot.picked
        return booking.create_reservation(
            service_id=int(form.service.data or ""),
            stylist_id=stylist_id,
            start=start_at,
            customer=typed_customer(form),
            notes=typed_notes(form),
            source="booking_page",
            manage_token_hash=token_hash,
            language=current_locale(),
        )

    return post_form(
        form,
        save,
        done=lambda _booked: saved_redirect(
            _("Your booking is confirmed. Keep this page's link to manage it."),
            url_for(".manage", token=token),
        ),
        page=lambda status: _render_flow(form, status),
    )


def _render_flow(form: CustomerDetailsForm, status: int) -> Response:
    """The flow again after a refused booking; what was typed is kept."""
    args = {k: form[k].data or "" for k in ("service", "stylist", "day", "slot")}
    message = None
    if form.slot.errors or form.service.errors:
        # The time cannot be booked (any more): ask again with fresh slots.
        args["slot"] = ""
        if status == 409:  # taken meanwhile: said once, at the top
            message = _("Sorry, that time has just been taken. Here are the free times now.")
            form.slot.errors = []
    flow = _flow(args, message)
    flow["slots_in_details"] = flow["service"] is not None and flow["day"] is not None
    form.slot.data = flow["selected_slot"]
    return render(
        "booking/book.html", partial="booking/_flow.html", status=status, form=form, **flow
    )


# --- manage my booking -----------------------------------------------------------------


def _reservation(token: str) -> Reservation:
    try:
        return manage_links.reservation_for_token(token)
    except NotFound:
        abort(404)


def _private(response: Response) -> Response:
    # The token is in the URL: keep it out of caches and other sites' Referer headers.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/manage/<token>")
def manage(token: str) -> Response:
    reservation = _reservation(token)
    manage_url = current_config().public_base_url.rstrip("/") + url_for(".manage", token=token)
    return _private(
        render(
            "booking/manage.html",
            reservation=reservation,
            token=token,
            manage_url=manage_url,
            can_change=booking.can_change(reservation),
        )
    )


@bp.route("/manage/<token>/cancel", methods=["GET", "POST"])
@limit_posts
def cancel(token: str) -> Response:
    reservation = _reservation(token)
    if not booking.can_change(reservation):
        return _cannot_change(token)
    form = ConfirmForm()

    def page(status: int) -> Response:
        if status == 200:
            return render("booking/cancel.html", reservation=reservation, token=token, form=form)
        flash(form.first_error() or "", "error")
        return redirect_to(url_for(".manage", token=token))

    return _private(
        post_form(
            form,
            lambda: booking.cancel_reservation(reservation.uuid, source="booking_page"),
            done=lambda _cancelled: saved_redirect(
                _("Your booking has been cancelled."), url_for(".manage", token=token)
            ),
            page=page,
        )
    )


@bp.route("/manage/<token>/reschedule", methods=["GET", "POST"])
@limit_posts
def reschedule(token: str) -> Response:
    reservation = _reservation(token)
    if not booking.can_change(reservation):
        return _cannot_change(token)
    form = PickSlotForm()
    form.slot.stylist_id = reservation.stylist_id
    source = request.form if request.method == "POST" else request.args
    day = parse_day(source.get("day"), default=salon_today()) or salon_today()
    return _private(
        post_form(
            form,
            lambda: booking.reschedule_reservation(
                reservation.uuid, start=form.slot.start, source="booking_page"
            ),
            done=lambda _moved: saved_redirect(
                _("Your booking has been moved."), url_for(".manage", token=token)
            ),
            page=lambda status: render(
                "booking/reschedule.html",
                partial="booking/_reschedule_slots.html",
                status=status,
                reservation=reservation,
                token=token,
                form=form,
                message=form.first_error(),
                **reschedule_context(reservation, day),
            ),
        )
    )


def _cannot_change(token: str) -> Response:
    flash(_("This booking can no longer be changed online. Please call the salon."), "error")
    return _private(redirect_to(url_for(".manage", token=token)))


# --- unsubscribe (link and List-Unsubscribe header of every reminder and notice) --------


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> Response:
    try:
        customer = notify_prefs.customer_for_unsubscribe(token)
    except NotFound:
        abort(404)
    done = customer.email_opt_out_at is not None
    return _private(render("booking/unsubscribe.html", token=token, done=done))


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" without a form
@limit_posts
def unsubscribe_post(token: str) -> Response:
    try:
        notify_prefs.unsubscribe(token)
    except NotFound:
        abort(404)
    return _private(render("booking/unsubscribe.html", token=token, done=True))
