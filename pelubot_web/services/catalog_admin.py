"""Admin edits of the catalog: services, stylists and the services each stylist offers.

Every edit validates its input (``InvalidInput`` / ``Conflict`` naming the field),
and commits; ``services.salon_setup``'s commit hook then drops the cached catalog and
salon setup in every process, so the API shows the change at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select

from pelubot_web.extensions import db
from pelubot_web.models import Service, Stylist, StylistService
from pelubot_web.services import sync_status
from pelubot_web.services.errors import InvalidInput, NotFound, SlugTaken

__all__ = [
    "OfferingInput",
    "get_service",
    "get_stylist",
    "save_service",
    "save_stylist",
    "set_offerings",
]

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
MAX_DURATION_MIN = 8 * 60
MAX_PRICE_CENTS = 100_000_00

# service_id -> (duration override in minutes or None, price override in cents or None)
OfferingInput = Mapping[int, tuple[int | None, int | None]]


def _name(value: str, field: str = "name") -> str:
    value = (value or "").strip()
    if not 1 <= len(value) <= 120:
        raise InvalidInput("must be 1-120 characters", field=field)
    return value


def _slug(value: str) -> str:
    value = (value or "").strip().lower()
    if not SLUG_RE.match(value) or len(value) > 80:
        raise InvalidInput("use lowercase letters, digits and hyphens", field="slug")
    return value


def _check_slug_free(model: type[Service] | type[Stylist], slug: str, own_id: int | None) -> None:
    """Slugs are unique per kind: ``SlugTaken`` when another row already uses this one."""
    clash = db.session.scalar(select(model.id).where(model.slug == slug))
    if clash is not None and clash != own_id:
        kind = model.__name__.lower()
        raise SlugTaken(f"another {kind} already uses the slug {slug!r}", field="slug")


def _duration(value: int | None, field: str = "duration_min") -> int:
    if value is None or not 1 <= value <= MAX_DURATION_MIN:
        raise InvalidInput(f"must be between 1 and {MAX_DURATION_MIN} minutes", field=field)
    return value


def _price(value: int | None, field: str = "price_cents") -> int:
    if value is None or not 0 <= value <= MAX_PRICE_CENTS:
        raise InvalidInput("must be a price between 0 and 100000", field=field)
    return value


def get_service(service_id: int) -> Service:
    service = db.session.get(Service, service_id)
    if service is None:
        raise NotFound(f"service {service_id} does not exist")
    return service


def get_stylist(stylist_id: int) -> Stylist:
    stylist = db.session.get(Stylist, stylist_id)
    if stylist is None:
        raise NotFound(f"stylist {stylist_id} does not exist")
    return stylist


def save_service(
    service_id: int | None,
    *,
    name: str,
    slug: str,
    duration_min: int | None,
    price_cents: int | None,
    currency: str = "EUR",
    active: bool = True,
) -> Service:
    """Create (``service_id`` None) or update a service. Services are deactivated, never
    deleted: past reservations keep pointing at them."""
    name = _name(name)
    slug = _slug(slug)
    duration_min = _duration(duration_min)
    price_cents = _price(price_cents)
    currency = (currency or "").strip().upper()
    if not CURRENCY_RE.match(currency):
        raise InvalidInput("must be a 3-letter currency code such as EUR", field="currency")
    service = Service() if service_id is None else get_service(service_id)
    _check_slug_free(Service, slug, service.id)
    renamed = service_id is not None and service.name != name
    service.name = name
    service.slug = slug
    service.duration_min = duration_min
    service.price_cents = price_cents
    service.currency = currency
    service.active = active
    if service_id is None:
        db.session.add(service)
    if renamed:
        # Upcoming calendar events show the service name: refresh them with this change.
        db.session.flush()
        sync_status.resync_upcoming(service_id=service.id, commit=False)
    db.session.commit()
    return service


_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{2,}")


def save_stylist(
    stylist_id: int | None,
    *,
    name: str,
    slug: str,
    calendar_id: str | None,
    active: bool = True,
    google_account: str | None = None,
) -> Stylist:
    """Create or update a stylist. An empty calendar id means "not mirrored to Google".

    ``google_account``: the stylist's Google Workspace address, when the salon uses
    domain-wide delegation instead of sharing each calendar with the service account.
    """
    name = _name(name)
    slug = _slug(slug)
    calendar_id = (calendar_id or "").strip() or None
    if calendar_id is not None and (
        len(calendar_id) > 255 or any(c.isspace() for c in calendar_id)
    ):
        raise InvalidInput("must be a calendar id without spaces", field="calendar_id")
    google_account = (google_account or "").strip() or None
    if google_account is not None and not _EMAIL.fullmatch(google_account):
        raise InvalidInput("must be a Google account e-mail address", field="google_account")
    stylist = Stylist() if stylist_id is None else get_stylist(stylist_id)
    _check_slug_free(Stylist, slug, stylist.id)
    calendar_changed = stylist_id is not None and (
        stylist.calendar_id != calendar_id or stylist.name != name  # events show the name
    )
    stylist.name = name
    stylist.slug = slug
    stylist.calendar_id = calendar_id
    stylist.google_account = google_account
    stylist.active = active
    if stylist_id is None:
        db.session.add(stylist)
    if calendar_changed:
        # Move each upcoming event to the new calendar (or delete it when there is none)
        # or refresh its text, queued in this same transaction.
        db.session.flush()
        sync_status.resync_upcoming(stylist.id, commit=False)
    db.session.commit()
    return stylist


def set_offerings(stylist_id: int, offerings: OfferingInput) -> Stylist:
    """Make the stylist offer exactly these services, with their per-stylist overrides.

    Existing reservations are not touched; only future availability changes.
    """
    stylist = get_stylist(stylist_id)
    for service_id, (minutes, cents) in offerings.items():
        get_service(service_id)
        if minutes is not None:
            _duration(minutes, field=f"duration_{service_id}")
        if cents is not None:
            _price(cents, field=f"price_{service_id}")
    current = {o.service_id: o for o in stylist.offerings}
    for service_id, offering in current.items():
        if service_id not in offerings:
            stylist.offerings.remove(offering)
    for service_id, (minutes, cents) in offerings.items():
        offer = current.get(service_id)
        if offer is None:
            offer = StylistService(service_id=service_id)
            stylist.offerings.append(offer)
        offer.duration_min = minutes
        offer.price_cents = cents
    db.session.commit()
    return stylist
