"""Admin ``/admin``: services, stylists and what they offer, weekly hours, closures,
booking rules, users, API keys, the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from pelubot_web.web.admin import api_keys, audit, catalog, schedule, users  # noqa: E402,F401
