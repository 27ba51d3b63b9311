"""Customer search and the customer page (contact details, history, staff notes)."""

from __future__ import annotations

from typing import Any

from flask import abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from pelubot_web.models import Customer
from pelubot_web.services import audit, customers, notify_status
from pelubot_web.services.errors import NotFound
from pelubot_web.web.access import require_role
from pelubot_web.web.customers import bp
from pelubot_web.web.customers.forms import ContactForm, MergeForm, StaffNotesForm
from pelubot_web.web.forms import post_form, saved_redirect
from pelubot_web.web.htmx import render

STAFF = ("reception", "admin")


def find_customer(customer_id: int) -> Customer:
    try:
        return customers.get_customer(customer_id)
    except NotFound:
        abort(404)


def actor() -> audit.Actor:
    return audit.Actor.of(current_user)


@bp.get("/")
@require_role(*STAFF)
def index() -> Response:
    query = request.args.get("q", "").strip()
    found = customers.search_customers(query) if query else []
    return render("customers/index.html", partial="customers/_results.html", q=query, found=found)


def _page(customer: Customer, *, status: int = 200, **forms: Any) -> Response:
    context: dict[str, Any] = {
        "contact_form": ContactForm(obj=customer, formdata=None),
        "notes_form": StaffNotesForm(data={"notes": customer.staff_notes or ""}, formdata=None),
        "merge_form": MergeForm(formdata=None),
        **forms,
    }
    return render(
        "customers/show.html",
        status=status,
        c=customer,
        history=customers.history(customer.id),
        sent=notify_status.for_customer(customer.id),
        **context,
    )


@bp.get("/<int:customer_id>")
@require_role(*STAFF)
def show(customer_id: int) -> Response:
    return _page(find_customer(customer_id))


@bp.post("/<int:customer_id>")
@require_role(*STAFF)
def update(customer_id: int) -> Response:
    customer = find_customer(customer_id)
    form = ContactForm()
    return post_form(
        form,
        lambda: customers.update_contact(customer.id, form.contact(), actor=actor()),
        done=lambda _saved: saved_redirect(_("Contact details saved."), _show_url(customer_id)),
        page=lambda status: _page(find_customer(customer_id), status=status, contact_form=form),
    )


@bp.post("/<int:customer_id>/notes")
@require_role(*STAFF)
def notes(customer_id: int) -> Response:
    customer = find_customer(customer_id)
    form = StaffNotesForm()
    return post_form(
        form,
        lambda: customers.set_staff_notes(customer.id, form.notes.data or "", actor=actor()),
        done=lambda _saved: saved_redirect(_("Staff notes saved."), _show_url(customer_id)),
        page=lambda status: _page(find_customer(customer_id), status=status, notes_form=form),
    )


def _show_url(customer_id: int) -> str:
    return url_for(".show", customer_id=customer_id)
