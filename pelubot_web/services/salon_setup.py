"""What the salon is set up to offer: services, stylists, offers, weekly hours, closures
and booking rules, as one snapshot of plain values cached in every process.

Slot searches read these on every call and they change only when staff edit them, so
they come from a ``shared_cache`` (services/shared_cache.py) instead of four queries a
search; any committed ORM write to these tables drops it in every process (the cache's
``DROPPED_BY`` entry). Without Redis every search reads the database
(``redis_down="bypass"``).

Only searches use the snapshot. The check inside a booking's write transaction
(``availability.check_bookable``) reads the database, so a change that is still on its
way to another process can at worst show a slot that booking then refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from pelubot_web.extensions import db
from pelubot_web.models import (
    SalonClosure,
    Service,
    Stylist,
    StylistService,
    WorkingHours,
)
from pelubot_web.services.catalog import (
    booking_rules,
    not_offered,
    unknown_service,
    unknown_stylist,
)
from pelubot_web.services.shared_cache import SharedCache, shared_cache

__all__ = ["Offer", "Rules", "SalonSetup", "salon_setup"]

# Bounds staleness only in the rare case of an edit committed while Redis was down.
SETUP_TTL_S = 60.0


@dataclass(frozen=True)
class Offer:
    """A stylist's bookable offer of a service (overrides applied)."""

    stylist_id: int
    service_id: int
    duration_min: int
    price_cents: int


@dataclass(frozen=True)
class Hours:
    weekday: int
    start_time: time
    end_time: time


@dataclass(frozen=True)
class Rules:
    slot_granularity_min: int
    buffer_after_min: int
    min_notice_min: int
    max_advance_days: int


@dataclass(frozen=True)
class SalonSetup:
    services: dict[int, tuple[str, bool]]  # id -> (name, active)
    stylists: dict[int, tuple[str, bool]]
    offers: dict[tuple[int, int], Offer]  # (stylist_id, service_id) -> offer
    hours: dict[int, tuple[Hours, ...]]  # stylist_id -> weekly hours
    closures: tuple[tuple[date, date], ...]  # inclusive local dates
    rules: Rules

    def offers_of(self, service_id: int, stylist_id: int | None) -> list[Offer]:
        """One stylist's offer, or every active stylist's (by id) for an active service.

        Raises ``NotFound`` for an unknown or inactive service or stylist and
        ``ServiceNotOffered`` when the stylist does not offer the service.
        """
        name, active = self.services.get(service_id, ("", False))
        if not active:
            raise unknown_service(service_id)
        if stylist_id is None:
            return [
                offer
                for (sid, service), offer in sorted(self.offers.items())
                if service == service_id and self.stylists[sid][1]
            ]
        stylist, stylist_active = self.stylists.get(stylist_id, ("", False))
        if not stylist_active:
            raise unknown_stylist(stylist_id)
        offer = self.offers.get((stylist_id, service_id))
        if offer is None:
            raise not_offered(stylist, name)
        return [offer]

    def closed_days(self, first: date, last_exclusive: date) -> set[date]:
        closed: set[date] = set()
        for start, end in self.closures:
            day = max(start, first)
            while day <= end and day < last_exclusive:
                closed.add(day)
                day += timedelta(days=1)
        return closed


def _load() -> SalonSetup:
    services = {s.id: (s.name, s.active) for s in db.session.scalars(select(Service))}
    stylists = {s.id: (s.name, s.active) for s in db.session.scalars(select(Stylist))}
    offers = {
        (o.stylist_id, o.service_id): Offer(
            o.stylist_id, o.service_id, o.effective_duration_min, o.effective_price_cents
        )
        for o in db.session.scalars(
            select(StylistService)
            .join(StylistService.service)
            .options(contains_eager(StylistService.service))
        )
    }
    hours: dict[int, list[Hours]] = {}
    for wh in db.session.scalars(select(WorkingHours).order_by(WorkingHours.id)):
        hours.setdefault(wh.stylist_id, []).append(Hours(wh.weekday, wh.start_time, wh.end_time))
    closures = tuple((c.start_date, c.end_date) for c in db.session.scalars(select(SalonClosure)))
    stored = booking_rules()
    rules = Rules(
        stored.slot_granularity_min,
        stored.buffer_after_min,
        stored.min_notice_min,
        stored.max_advance_days,
    )
    return SalonSetup(
        services=services,
        stylists=stylists,
        offers=offers,
        hours={sid: tuple(h) for sid, h in hours.items()},
        closures=closures,
        rules=rules,
    )


def _cache() -> SharedCache:
    return shared_cache("salon-setup", SETUP_TTL_S, redis_down="bypass")


def salon_setup() -> SalonSetup:
    """The current setup (cached; see the module docstring)."""
    return _cache().get("setup", _load)
