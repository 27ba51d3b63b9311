"""The stylist portal ``/pro``: agenda, bookings made at the desk, time off."""

from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/pro")

from pelubot_web.web.portal import routes, time_off  # noqa: E402,F401  (registers the views)
