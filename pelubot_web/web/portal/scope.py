"""Whose agenda a portal request is about, and which reservations it may touch.

A stylist only ever sees and changes their own reservations; an admin picks a stylist
with ``?stylist=<id>``. Someone else's reservation answers 404, so its existence is
not even revealed.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_login import current_user

from pelubot_web.inputs import parse_db_int
from pelubot_web.models import Reservation, Stylist
from pelubot_web.services import booking, catalog
from pelubot_web.services.errors import NotFound


def can_switch_stylist() -> bool:
    return bool(current_user.role == "admin")


def current_stylist() -> Stylist:
    """The stylist whose agenda this request shows (403 for a stylist user with none)."""
    if not can_switch_stylist():
        stylist = current_user.stylist
        if stylist is None:
            abort(403)
        return stylist
    stylists = catalog.list_stylists(active_only=False)
    if not stylists:
        abort(404)
    wanted = parse_db_int(request.values.get("stylist"))
    return next((s for s in stylists if s.id == wanted), None) or next(
        (s for s in stylists if s.active), stylists[0]
    )


def scope_args(stylist: Stylist) -> dict[str, Any]:
    """URL arguments that keep an admin on the stylist they chose."""
    return {"stylist": stylist.id} if can_switch_stylist() else {}


def own_reservation(reservation_uuid: str) -> Reservation:
    """The reservation, if the current user may see it; 404 otherwise."""
    try:
        reservation = booking.get_reservation(reservation_uuid)
    except NotFound:
        abort(404)
    if not can_switch_stylist() and reservation.stylist_id != current_user.stylist_id:
        abort(404)
    return reservation
