"""Admin-only actions on a customer: merge a duplicate, export all data, erase."""

from __future__ import annotations

import json

from flask import abort, make_response, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from pelubot_web.services import customers, privacy
from pelubot_web.web.access import require_role
from pelubot_web.web.customers import bp
from pelubot_web.web.customers.forms import MergeForm
from pelubot_web.web.customers.routes import _page, actor, find_customer
from pelubot_web.web.forms import ConfirmForm, post_form, saved_redirect
from pelubot_web.web.htmx import render


@bp.post("/<int:customer_id>/merge")
@require_role("admin")
def merge(customer_id: int) -> Response:
    customer = find_customer(customer_id)
    form = MergeForm()
    return post_form(
        form,
        lambda: customers.merge_customers(customer.id, form.duplicate_id.data or 0, actor=actor()),
        done=lambda _kept: saved_redirect(
            _("Customers merged: every reservation is now on this record."),
            url_for(".show", customer_id=customer.id),
        ),
        page=lambda status: _page(find_customer(customer_id), status=status, merge_form=form),
    )


@bp.post("/<int:customer_id>/export")
@require_role("admin")
def export(customer_id: int) -> Response:
    find_customer(customer_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    data = privacy.export_customer(customer_id, actor=actor())
    response = make_response(json.dumps(data, ensure_ascii=False, indent=2))
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = f'attachment; filename="customer-{customer_id}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:customer_id>/erase", methods=["GET", "POST"])
@require_role("admin")
def erase(customer_id: int) -> Response:
    customer = find_customer(customer_id)
    form = ConfirmForm()
    return post_form(
        form,
        lambda: privacy.erase_customer(customer.id, actor=actor()),
        done=lambda _erased: saved_redirect(
            _("The customer's personal data was erased."),
            url_for(".show", customer_id=customer.id),
        ),
        page=lambda status: render("customers/erase.html", status=status, c=customer, form=form),
    )
