"""Admin ``/admin``: services, stylists and what they offer, weekly hours, closures,
booking rules, users, the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from pelubot_web.web.admin import audit, catalog, schedule, users  # noqa: E402,F401  (views)
