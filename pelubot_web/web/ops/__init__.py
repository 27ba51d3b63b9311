"""Ops dashboards (ops and admins): ``/admin/calendar-jobs`` (the calendar sync queue,
live) and ``/admin/notifications`` (customer emails and webhooks)."""

from flask import Blueprint

bp = Blueprint("ops", __name__, url_prefix="/admin/calendar-jobs")
notifications_bp = Blueprint("notifications", __name__, url_prefix="/admin/notifications")

from pelubot_web.web.ops import notifications, routes  # noqa: E402,F401  (registers the views)
