"""Public booking pages: choose a service, stylist, day and time; manage the booking."""

from flask import Blueprint

bp = Blueprint("booking", __name__, url_prefix="/book")

from pelubot_web.web.booking import routes  # noqa: E402,F401  (registers the views)
