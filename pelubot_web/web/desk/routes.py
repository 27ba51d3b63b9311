"""Desk pages: the salon's day, one stylist's week, the self-refreshing grid, a
reservation's details and the customer picker of the booking form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import abort, request
from flask_login import current_user
from werkzeug.wrappers import Response

from pelubot_web.inputs import parse_date, parse_db_int
from pelubot_web.models import Stylist
from pelubot_web.services import booking, catalog, customers, desk
from pelubot_web.services.errors import NotFound
from pelubot_web.web.access import require_role
from pelubot_web.web.desk import STAFF, VIEWERS, bp
from pelubot_web.web.htmx import render
from pelubot_web.web.slots import salon_today

POLL_SECONDS = 5


@dataclass(frozen=True)
class DeskArgs:
    """What a desk URL asks for, validated once (bad input is a 400/404)."""

    view: str  # "day" or "week"
    day: date
    stylist: Stylist | None
    cancelled: bool

    def query(self, **changes: Any) -> dict[str, Any]:
        values: dict[str, Any] = {"date": self.day.isoformat()}
        if self.view == "week" and self.stylist is not None:
            values["stylist"] = self.stylist.id
        if self.cancelled:
            values["cancelled"] = 1
        values.update(changes)
        return values


def _parse_args(view: str) -> DeskArgs:
    raw_day = request.args.get("date", "")
    parsed = parse_date(raw_day)
    if raw_day and parsed is None:
        abort(400)
    day = parsed or salon_today()
    stylist = None
    if view == "week":
        stylists = catalog.list_stylists(active_only=False)
        wanted = parse_db_int(request.args.get("stylist"))
        if wanted is None and current_user.role == "stylist":
            wanted = current_user.stylist_id
        stylist = next((s for s in stylists if s.id == wanted), None)
        if stylist is None and wanted is None:
            stylist = next((s for s in stylists if s.active), None)
        if stylist is None:
            abort(404)
    return DeskArgs(view, day, stylist, request.args.get("cancelled") == "1")


def _context(args: DeskArgs) -> dict[str, Any]:
    if args.view == "week" and args.stylist is not None:
        view = desk.stylist_week(args.stylist, args.day, include_cancelled=args.cancelled)
        step = timedelta(days=7)
    else:
        view = desk.salon_day(args.day, include_cancelled=args.cancelled)
        step = timedelta(days=1)
    return {
        "args": args,
        "view": view,
        "token": desk.changes_token(),
        "can_book": current_user.role in STAFF,
        "today": salon_today(),
        "prev_day": args.day - step,
        "next_day": args.day + step,
        "stylists": catalog.list_stylists(active_only=True),
        "poll_seconds": POLL_SECONDS,
    }


@bp.get("/")
@require_role(*VIEWERS)
def day() -> Response:
    return render("desk/day.html", partial="desk/_grid.html", **_context(_parse_args("day")))


@bp.get("/week")
@require_role(*VIEWERS)
def week() -> Response:
    return render("desk/day.html", partial="desk/_grid.html", **_context(_parse_args("week")))


@bp.get("/grid")
@require_role(*VIEWERS)
def grid() -> Response:
    """The polled part: 204 while nothing changed since ``token``, else the fresh grid."""
    args = _parse_args("week" if request.args.get("view") == "week" else "day")
    if request.args.get("token") == desk.changes_token():
        return Response(status=204)
    return render("desk/_grid.html", **_context(args))


@bp.get("/reservations/<reservation_uuid>")
@require_role(*STAFF)
def details(reservation_uuid: str) -> Response:
    try:
        reservation = booking.get_reservation(reservation_uuid)
    except NotFound:
        abort(404)
    return render("desk/details.html", partial="desk/_details.html", r=reservation)


@bp.get("/customer-options")
@require_role(*STAFF)
def customer_options() -> Response:
    """Search-as-you-type for the booking form: matching customers as radio choices."""
    found = customers.search_customers(request.args.get("q", ""))
    return render("desk/_customer_options.html", customers=found, q=request.args.get("q", ""))
