"""The catalog: services, stylists, what each stylist offers, and the booking rules.

The API serves ``/services`` and ``/professionals`` from a short per-process cache
(``services_snapshot`` / ``professionals_snapshot``, a ``services.shared_cache``). A
committed ORM write to the catalog drops it in every process at once
(``services.shared_cache``'s commit hook). If Redis
is unreachable, other processes fall back to the TTL (at most 30 s) and nothing fails.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from pelubot_web.config import current_config
from pelubot_web.extensions import db
from pelubot_web.models import BookingRules, Service, Stylist, StylistService
from pelubot_web.services.errors import NotFound, ServiceNotOffered
from pelubot_web.services.shared_cache import SharedCache, shared_cache

__all__ = [
    "CatalogSnapshot",
    "booking_rules",
    "list_services",
    "list_stylists",
    "not_offered",
    "offering",
    "professionals_snapshot",
    "services_snapshot",
    "unknown_service",
    "unknown_stylist",
]

DEFAULT_RULES = {
    "slot_granularity_min": 15,
    "buffer_after_min": 0,
    "min_notice_min": 60,
    "max_advance_days": 60,
}


def list_services(active_only: bool = True) -> list[Service]:
    """Services ordered by name."""
    query = select(Service).order_by(Service.name, Service.id)
    if active_only:
        query = query.where(Service.active.is_(True))
    return list(db.session.scalars(query))


def list_stylists(active_only: bool = True, service_id: int | None = None) -> list[Stylist]:
    """Stylists ordered by name; with ``service_id``, only those who offer it."""
    query = (
        select(Stylist)
        .options(selectinload(Stylist.offerings).selectinload(StylistService.service))
        .order_by(Stylist.name, Stylist.id)
    )
    if active_only:
        query = query.where(Stylist.active.is_(True))
    if service_id is not None:
        query = query.join(StylistService).where(StylistService.service_id == service_id)
    return list(db.session.scalars(query))


def offering(stylist_id: int, service_id: int) -> StylistService:
    """The bookable offer of ``service_id`` by ``stylist_id`` (both must be active).

    Raises ``NotFound`` for an unknown or inactive stylist or service, and
    ``ServiceNotOffered`` when the stylist does not offer the service.
    """
    offer: StylistService | None = db.session.scalar(
        select(StylistService)
        .join(StylistService.service)
        .join(StylistService.stylist)
        .options(contains_eager(StylistService.service), contains_eager(StylistService.stylist))
        .where(
            StylistService.stylist_id == stylist_id,
            StylistService.service_id == service_id,
            Service.active.is_(True),
            Stylist.active.is_(True),
        )
    )
    if offer is not None:  # one round trip for every booking; below, only to say why not
        return offer
    service = db.session.get(Service, service_id)
    if service is None or not service.active:
        raise unknown_service(service_id)
    stylist = db.session.get(Stylist, stylist_id)
    if stylist is None or not stylist.active:
        raise unknown_stylist(stylist_id)
    offer = db.session.get(StylistService, (stylist_id, service_id))
    if offer is None:
        raise not_offered(stylist.name, service.name)
    return offer  # it changed between the two reads: it is bookable now


# The errors of an offer that cannot be booked (here and in the cached salon setup).
def unknown_service(service_id: int) -> NotFound:
    return NotFound(f"no service with id {service_id}", field="service_id")


def unknown_stylist(stylist_id: int) -> NotFound:
    return NotFound(f"no professional with id {stylist_id}", field="professional_id")


def not_offered(stylist_name: str, service_name: str) -> ServiceNotOffered:
    return ServiceNotOffered(f"{stylist_name} does not offer {service_name}", field="service_id")


def booking_rules() -> BookingRules:
    """The salon's booking rules (the single row), or the defaults when none is stored."""
    rules = db.session.get(BookingRules, 1)
    if rules is None:
        rules = BookingRules(id=1, **DEFAULT_RULES)
    return rules


# --- the cache behind GET /services and GET /professionals --------------------------------


@dataclass(frozen=True)
class CatalogSnapshot:
    """Plain values (safe to share between threads and requests) and their ETag."""

    items: tuple[dict[str, Any], ...]
    etag: str


def _catalog_cache() -> SharedCache:
    # Without Redis the lists may lag an edit by the TTL (at most 30 s): harmless.
    return shared_cache("catalog", current_config().catalog_cache_ttl_s, redis_down="ttl")


def _snapshot(kind: str, load: Callable[[], list[dict[str, Any]]]) -> CatalogSnapshot:
    def build() -> CatalogSnapshot:
        items = tuple(load())
        body = json.dumps(items, sort_keys=True, separators=(",", ":")).encode()
        return CatalogSnapshot(items=items, etag=hashlib.sha256(body).hexdigest()[:32])

    return _catalog_cache().get(kind, build)


def _load_services() -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "slug": s.slug,
            "name": s.name,
            "duration_min": s.duration_min,
            "price_cents": s.price_cents,
            "currency": s.currency,
        }
        for s in list_services(active_only=True)
    ]


def _load_professionals() -> list[dict[str, Any]]:
    return [
        {
            "id": st.id,
            "slug": st.slug,
            "name": st.name,
            "service_ids": sorted(o.service_id for o in st.offerings if o.service.active),
        }
        for st in list_stylists(active_only=True)
    ]


def services_snapshot() -> CatalogSnapshot:
    """Active services as plain dicts, cached for at most the catalog TTL."""
    return _snapshot("services", _load_services)


def professionals_snapshot() -> CatalogSnapshot:
    """Active stylists with the ids of the active services they offer, cached."""
    return _snapshot("professionals", _load_professionals)
