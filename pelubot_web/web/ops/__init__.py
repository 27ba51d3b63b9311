"""Ops dashboard ``/admin/calendar-jobs``: the calendar sync queue, live (ops and admins)."""

from flask import Blueprint

bp = Blueprint("ops", __name__, url_prefix="/admin/calendar-jobs")

from pelubot_web.web.ops import routes  # noqa: E402,F401  (registers the views)
