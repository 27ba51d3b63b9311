"""Admin ``/admin``: services, stylists and what they offer, weekly hours, closures,
booking rules, users, API keys, webhooks, the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from pelubot_web.web.admin import (  # noqa: E402,F401
    api_keys,
    audit,
    catalog,
    schedule,
    users,
    webhooks,
)
