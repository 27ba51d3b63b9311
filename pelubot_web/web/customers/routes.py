"""Customer search and the customer page (contact details, history, staff notes)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from pelubot_web.models import Customer
from pelubot_web.services import audit, customers, notify_status
from pelubot_web.services.errors import DomainError, NotFound
from pelubot_web.web.access import require_role
from pelubot_web.web.customers import bp
from pelubot_web.web.customers.forms import ContactForm, MergeForm, StaffNotesForm
from pelubot_web.web.htmx import redirect_to, render

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
    if not form.validate_on_submit():
        return _page(customer, status=422, contact_form=form)
    contact = customers.ContactInput(
        name=form.name.data or "", phone=form.phone.data or "", email=form.email.data or None
    )
    try:
        customers.update_contact(customer.id, contact, actor=actor())
    except DomainError as error:
        status = form.show_domain_error(error)
        return _page(find_customer(customer_id), status=status, contact_form=form)
    flash(_("Contact details saved."), "success")
    return redirect_to(url_for(".show", customer_id=customer.id))


@bp.post("/<int:customer_id>/notes")
@require_role(*STAFF)
def notes(customer_id: int) -> Response:
    customer = find_customer(customer_id)
    form = StaffNotesForm()
    if not form.validate_on_submit():
        return _page(customer, status=422, notes_form=form)
    customers.set_staff_notes(customer.id, form.notes.data or "", actor=actor())
    flash(_("Staff notes saved."), "success")
    return redirect_to(url_for(".show", customer_id=customer.id))
