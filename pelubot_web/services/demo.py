"""The demo salon: realistic data for development, demos and the benchmark.

Idempotent: every object is looked up by its natural key first, so running the seed
twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from pelubot_web.extensions import db
from pelubot_web.models import (
    BookingRules,
    SalonClosure,
    Service,
    Stylist,
    StylistService,
    TimeOff,
    WorkingHours,
)

# slug, name, minutes, price in cents
SERVICES = [
    ("corte-mujer", "Corte mujer", 45, 3200),
    ("corte-hombre", "Corte hombre", 30, 1800),
    ("color", "Color raíz", 90, 5500),
    ("mechas", "Mechas balayage", 120, 7900),
    ("peinado", "Peinado y secado", 45, 2500),
    ("barba", "Arreglo de barba", 20, 1200),
    ("keratina", "Tratamiento de keratina", 90, 8500),
    ("lavado-secado", "Lavado y secado", 30, 1500),
]

MORNING_AFTERNOON = [(time(10), time(14)), (time(15), time(20))]
SATURDAY = [(time(9), time(14))]


@dataclass(frozen=True)
class DemoStylist:
    slug: str
    name: str
    calendar_id: str
    services: list[str]
    weekdays: list[int]  # 0 = Monday
    overrides: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    days_off_from_today: list[int] = field(default_factory=list)


STYLISTS = [
    DemoStylist(
        "lucia",
        "Lucía Fernández",
        "lucia.fernandez@peluqueria-demo.pelubot.es",
        ["corte-mujer", "color", "mechas", "peinado", "keratina", "lavado-secado"],
        [0, 1, 2, 3, 4],
        overrides={"mechas": (150, 9500)},
        days_off_from_today=[9, 10],
    ),
    DemoStylist(
        "carmen",
        "Carmen Ruiz",
        "carmen.ruiz@peluqueria-demo.pelubot.es",
        ["corte-mujer", "color", "mechas", "peinado", "lavado-secado"],
        [1, 2, 3, 4, 5],
        overrides={"color": (75, None)},
        days_off_from_today=[15],
    ),
    DemoStylist(
        "javier",
        "Javier Moreno",
        "javier.moreno@peluqueria-demo.pelubot.es",
        ["corte-hombre", "barba", "lavado-secado", "corte-mujer"],
        [1, 2, 3, 4, 5],
        overrides={"barba": (15, 1000)},
        days_off_from_today=[4],
    ),
    DemoStylist(
        "marta",
        "Marta Díaz",
        "marta.diaz@peluqueria-demo.pelubot.es",
        ["corte-mujer", "corte-hombre", "peinado", "keratina", "barba", "lavado-secado"],
        [0, 1, 2, 3, 5],
        overrides={"peinado": (None, 2800)},
        days_off_from_today=[21, 22, 23],
    ),
]


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Stylist))


def ensure_booking_rules() -> BookingRules:
    rules = db.session.get(BookingRules, 1)
    if rules is None:
        rules = BookingRules(id=1)
        db.session.add(rules)
        db.session.flush()
    return rules


def _seed_services() -> tuple[dict[str, Service], int]:
    services: dict[str, Service] = {}
    created = 0
    for slug, name, minutes, cents in SERVICES:
        service = db.session.scalar(select(Service).where(Service.slug == slug))
        if service is None:
            service = Service(slug=slug, name=name, duration_min=minutes, price_cents=cents)
            db.session.add(service)
            created += 1
        services[slug] = service
    db.session.flush()
    return services, created


def _add_stylist(
    demo: DemoStylist, services: dict[str, Service], tz: ZoneInfo, today: date
) -> None:
    stylist = Stylist(slug=demo.slug, name=demo.name, calendar_id=demo.calendar_id)
    db.session.add(stylist)
    for slug in demo.services:
        override = demo.overrides.get(slug)
        own_minutes, own_cents = override if override else (None, None)
        stylist.offerings.append(
            StylistService(service=services[slug], duration_min=own_minutes, price_cents=own_cents)
        )
    for weekday in demo.weekdays:
        intervals = SATURDAY if weekday == 5 else MORNING_AFTERNOON
        for start, end in intervals:
            db.session.add(
                WorkingHours(stylist=stylist, weekday=weekday, start_time=start, end_time=end)
            )
    for offset in demo.days_off_from_today:
        day = today + timedelta(days=offset)
        db.session.add(
            TimeOff(
                stylist=stylist,
                start_at=datetime.combine(day, time(0), tz),
                end_at=datetime.combine(day + timedelta(days=1), time(0), tz),
                reason="Día libre",
            )
        )


def _seed_closures(today: date) -> int:
    created = 0
    for year in (today.year, today.year + 1):
        for month, day_of_month, reason in ((12, 25, "Navidad"), (1, 1, "Año Nuevo")):
            day = date(year, month, day_of_month)
            exists = db.session.scalar(
                select(SalonClosure.id).where(SalonClosure.start_date == day)
            )
            if exists is None:
                db.session.add(SalonClosure(start_date=day, end_date=day, reason=reason))
                created += 1
    return created


def seed_demo(tz: ZoneInfo, today: date | None = None) -> dict[str, int]:
    """Create whatever part of the demo salon is missing; return what was created."""
    today = today or datetime.now(tz).date()
    ensure_booking_rules()
    services, new_services = _seed_services()
    new_stylists = 0
    for demo in STYLISTS:
        if db.session.scalar(select(Stylist.id).where(Stylist.slug == demo.slug)) is None:
            _add_stylist(demo, services, tz, today)
            new_stylists += 1
    new_closures = _seed_closures(today)
    db.session.commit()
    return {"services": new_services, "stylists": new_stylists, "closures": new_closures}
