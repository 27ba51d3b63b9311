"""Customer records ``/customers``: search, contact details, history and staff notes
(reception and admins); merge, export and erase (admins, audited)."""

from flask import Blueprint

bp = Blueprint("customers", __name__, url_prefix="/customers")

from pelubot_web.web.customers import privacy, routes  # noqa: E402,F401  (views)
