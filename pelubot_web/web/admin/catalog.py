"""Admin views of services, stylists and the services each stylist offers."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from pelubot_web.models import Service, Stylist
from pelubot_web.services import catalog, catalog_admin
from pelubot_web.services.errors import NotFound
from pelubot_web.web.access import require_role
from pelubot_web.web.admin import bp
from pelubot_web.web.admin.forms import ServiceForm, StylistForm
from pelubot_web.web.forms import ConfirmForm, post_form, saved_redirect
from pelubot_web.web.htmx import redirect_to, render


def _cents(price: Decimal | None) -> int | None:
    return None if price is None else int((price * 100).quantize(Decimal(1)))


@bp.get("/")
@require_role("admin")
def index() -> Response:
    return render(
        "admin/index.html",
        services=catalog.list_services(active_only=False),
        stylists=catalog.list_stylists(active_only=False),
    )


# --- services ----------------------------------------------------------------------------


@bp.get("/services")
@require_role("admin")
def services() -> Response:
    return render(
        "admin/services.html",
        services=catalog.list_services(active_only=False),
        toggle_form=ConfirmForm(),
    )


def _load_service(service_id: int) -> Service:
    try:
        return catalog_admin.get_service(service_id)
    except NotFound:
        abort(404)


@bp.route("/services/new", methods=["GET", "POST"], defaults={"service_id": None})
@bp.route("/services/<int:service_id>", methods=["GET", "POST"])
@require_role("admin")
def edit_service(service_id: int | None) -> Response:
    service = _load_service(service_id) if service_id is not None else None
    form = ServiceForm(obj=service)
    if service is not None and not form.is_submitted():
        form.price.data = Decimal(service.price_cents) / 100
    return post_form(
        form,
        lambda: catalog_admin.save_service(
            service_id,
            name=form.name.data or "",
            slug=form.slug.data or "",
            duration_min=form.duration_min.data,
            price_cents=_cents(form.price.data),
            currency=form.currency.data or "",
            active=bool(form.active.data),
        ),
        done=lambda saved: saved_redirect(
            _("Service “%(name)s” saved.", name=saved.name), url_for(".services")
        ),
        page=lambda status: render(
            "admin/service_form.html", status=status, form=form, service=service
        ),
    )


@bp.post("/services/<int:service_id>/toggle")
@require_role("admin")
def toggle_service(service_id: int) -> Response:
    service = _load_service(service_id)
    if ConfirmForm().validate_on_submit():
        service = catalog_admin.save_service(
            service.id,
            name=service.name,
            slug=service.slug,
            duration_min=service.duration_min,
            price_cents=service.price_cents,
            currency=service.currency,
            active=not service.active,
        )
    return render(
        "admin/services.html",
        partial="admin/_service_row.html",
        services=catalog.list_services(active_only=False),
        s=service,
        toggle_form=ConfirmForm(),
    )


# --- stylists ----------------------------------------------------------------------------


@bp.get("/stylists")
@require_role("admin")
def stylists() -> Response:
    return render("admin/stylists.html", stylists=catalog.list_stylists(active_only=False))


def _load_stylist(stylist_id: int) -> Stylist:
    try:
        return catalog_admin.get_stylist(stylist_id)
    except NotFound:
        abort(404)


@bp.route("/stylists/new", methods=["GET", "POST"], defaults={"stylist_id": None})
@bp.route("/stylists/<int:stylist_id>", methods=["GET", "POST"])
@require_role("admin")
def edit_stylist(stylist_id: int | None) -> Response:
    stylist = _load_stylist(stylist_id) if stylist_id is not None else None
    form = StylistForm(obj=stylist)

    def done(saved: Stylist) -> Response:
        # A new stylist goes on to choose the services they offer.
        next_page = (
            url_for(".stylist_services", stylist_id=saved.id)
            if stylist_id is None
            else url_for(".stylists")
        )
        return saved_redirect(_("Stylist “%(name)s” saved.", name=saved.name), next_page)

    return post_form(
        form,
        lambda: catalog_admin.save_stylist(
            stylist_id,
            name=form.name.data or "",
            slug=form.slug.data or "",
            calendar_id=form.calendar_id.data,
            active=bool(form.active.data),
            google_account=form.google_account.data,
        ),
        done=done,
        page=lambda status: render(
            "admin/stylist_form.html", status=status, form=form, stylist=stylist
        ),
    )


@bp.route("/stylists/<int:stylist_id>/services", methods=["GET", "POST"])
@require_role("admin")
def stylist_services(stylist_id: int) -> Response:
    """Which services the stylist offers, each with optional own duration and price."""
    stylist = _load_stylist(stylist_id)
    all_services = catalog.list_services(active_only=False)
    form = ConfirmForm()
    current = {o.service_id: o for o in stylist.offerings}
    errors: dict[int, str] = {}
    status = 200
    if form.validate_on_submit():
        chosen: dict[int, tuple[int | None, int | None]] = {}
        for service in all_services:
            if request.form.get(f"offer-{service.id}") != "on":
                continue
            minutes, cents = None, None
            try:
                raw_minutes = request.form.get(f"duration-{service.id}", "").strip()
                raw_price = request.form.get(f"price-{service.id}", "").strip().replace(",", ".")
                minutes = int(raw_minutes) if raw_minutes else None
                cents = _cents(Decimal(raw_price)) if raw_price else None
            except (ValueError, ArithmeticError):
                errors[service.id] = _("Enter whole minutes and a price like 25.50.")
                continue
            if (minutes is not None and not 5 <= minutes <= 480) or (
                cents is not None and not 0 <= cents <= 100_000_00
            ):
                errors[service.id] = _("Minutes 5-480 and a price from 0 to 100000.")
                continue
            chosen[service.id] = (minutes, cents)
        if not errors:
            catalog_admin.set_offerings(stylist.id, chosen)
            flash(_("Services of %(name)s saved.", name=stylist.name), "success")
            return redirect_to(url_for(".stylists"))
        status = 422
    return render(
        "admin/stylist_services.html",
        status=status,
        stylist=stylist,
        services=all_services,
        current=current,
        errors=errors,
        form=form,
        submitted=request.form if form.is_submitted() else None,
    )
