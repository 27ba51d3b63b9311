"""The front desk ``/desk``: the salon's day (one column per stylist) and one stylist's
week on a time grid, booking into free cells, and acting on reservations.

Reception and admins book and change; stylists may look (read-only)."""

from flask import Blueprint

bp = Blueprint("desk", __name__, url_prefix="/desk")

VIEWERS = ("reception", "admin", "stylist")
STAFF = ("reception", "admin")

from pelubot_web.web.desk import actions, routes  # noqa: E402,F401  (views)
