"""Staff login and logout, and the language switcher."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from pelubot_web.web.auth import account, routes  # noqa: E402,F401  (registers the views)
