"""Small factories for test data. Each returns a flushed ORM object with sane defaults."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pelubot_web.extensions import db
from pelubot_web.models import (
    BookingRules,
    Customer,
    Reservation,
    SalonClosure,
    Service,
    Stylist,
    StylistService,
    TimeOff,
    WorkingHours,
)

MADRID = ZoneInfo("Europe/Madrid")
_seq = itertools.count(1)


def booking_rules(**overrides: int) -> BookingRules:
    rules = db.session.get(BookingRules, 1)
    if rules is None:
        rules = BookingRules(id=1)
        db.session.add(rules)
    values = {
        "slot_granularity_min": 15,
        "buffer_after_min": 0,
        "min_notice_min": 60,
        "max_advance_days": 60,
    }
    values.update(overrides)
    for key, value in values.items():
        setattr(rules, key, value)
    db.session.flush()
    return rules


def service(**overrides: object) -> Service:
    n = next(_seq)
    values: dict[str, object] = {
        "slug": f"servicio-{n}",
        "name": f"Servicio {n}",
        "duration_min": 30,
        "price_cents": 2000,
        "currency": "EUR",
        "active": True,
    }
    values.update(overrides)
    obj = Service(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def stylist(
    services: list[Service] | None = None,
    *,
    overrides: dict[int, tuple[int | None, int | None]] | None = None,
    hours: dict[int, list[tuple[time, time]]] | None = None,
    **fields: object,
) -> Stylist:
    """A stylist offering ``services``; ``hours`` maps weekday -> intervals (default none)."""
    n = next(_seq)
    values: dict[str, object] = {
        "slug": f"estilista-{n}",
        "name": f"Estilista {n}",
        "calendar_id": f"estilista-{n}@calendar.test",
        "active": True,
    }
    values.update(fields)
    obj = Stylist(**values)
    db.session.add(obj)
    for svc in services or []:
        minutes, cents = (overrides or {}).get(svc.id, (None, None))
        obj.offerings.append(StylistService(service=svc, duration_min=minutes, price_cents=cents))
    for weekday, intervals in (hours or {}).items():
        for start, end in intervals:
            db.session.add(
                WorkingHours(stylist=obj, weekday=weekday, start_time=start, end_time=end)
            )
    db.session.flush()
    return obj


WEEKDAYS_WITH_LUNCH = {d: [(time(10), time(14)), (time(15), time(20))] for d in range(0, 5)}


def time_off(stylist: Stylist, start: datetime, end: datetime, reason: str = "") -> TimeOff:
    obj = TimeOff(stylist=stylist, start_at=start, end_at=end, reason=reason or None)
    db.session.add(obj)
    db.session.flush()
    return obj


def closure(start: date, end: date | None = None, reason: str = "Festivo") -> SalonClosure:
    obj = SalonClosure(start_date=start, end_date=end or start, reason=reason)
    db.session.add(obj)
    db.session.flush()
    return obj


def customer(**overrides: object) -> Customer:
    n = next(_seq)
    values: dict[str, object] = {
        "name": f"Cliente {n}",
        "phone": f"+346000{n:05d}",
        "email": None,
    }
    values.update(overrides)
    obj = Customer(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def reservation(
    stylist: Stylist,
    service: Service,
    start: datetime,
    *,
    customer_obj: Customer | None = None,
    minutes: int | None = None,
    **fields: object,
) -> Reservation:
    """Insert a reservation directly (no booking rules applied): for setting up state."""
    minutes = minutes or service.duration_min
    end = start + timedelta(minutes=minutes)
    values: dict[str, object] = {
        "stylist": stylist,
        "service": service,
        "customer": customer_obj or customer(),
        "start_at": start,
        "end_at": end,
        "busy_until": end,
        "status": "confirmed",
        "source": "portal",
        "price_cents": service.price_cents,
    }
    values.update(fields)
    booked_for = values["customer"]
    values.setdefault("customer_name", booked_for.name)  # type: ignore[attr-defined]
    values.setdefault("customer_email", booked_for.email)  # type: ignore[attr-defined]
    obj = Reservation(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def next_weekday(weekday: int, weeks_ahead: int = 1, tz: ZoneInfo = MADRID) -> date:
    """The date of ``weekday`` (0 = Monday) at least ``weeks_ahead`` weeks from today."""
    today = datetime.now(tz).date() + timedelta(weeks=weeks_ahead)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def local(day: date, hour: int, minute: int = 0, tz: ZoneInfo = MADRID) -> datetime:
    """An aware datetime at a salon-local wall-clock time."""
    return datetime.combine(day, time(hour, minute), tz)


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)


class Salon:
    """A small bookable salon: two services, two stylists working weekdays with lunch."""

    def __init__(self, **rules: int) -> None:
        self.rules = booking_rules(**rules)
        self.cut = service(name="Corte", duration_min=30, price_cents=2000)
        self.color = service(name="Color", duration_min=90, price_cents=5500)
        # Ana colours in 60 min at her own price; Bea only cuts.
        self.ana = stylist(
            [self.cut, self.color],
            overrides={self.color.id: (60, 6000)},
            hours=WEEKDAYS_WITH_LUNCH,
            name="Ana",
        )
        self.bea = stylist([self.cut], hours=WEEKDAYS_WITH_LUNCH, name="Bea")
        db.session.commit()


def customer_payload(n: int = 1) -> dict[str, object]:
    """The ``customer`` object of a booking request (a distinct valid phone per n)."""
    return {"name": f"Cliente {n}", "phone": f"+34 6{n:08d}", "email": None}


def service_account_file(directory: Path) -> str:
    """A service-account key file as Google issues it (a fresh RSA key, no real account)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "pelubot-test",
        "private_key_id": "test-key",
        "private_key": pem,
        "client_email": "pelubot@pelubot-test.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = directory / "service-account.json"
    path.write_text(json.dumps(info))
    return str(path)


M = TypeVar("M")


def stored(model: type[M], ident: object) -> M:
    """The row as the database has it now; the test fails if it is gone."""
    row = db.session.get(model, ident)
    assert row is not None, f"no {model.__name__} {ident!r}"
    return row


def sync_job_id(reservation: Reservation) -> int:
    """The reservation's outbox row id; every recorded change has one."""
    assert reservation.sync_job_id is not None, f"reservation {reservation.uuid} has no sync job"
    return reservation.sync_job_id
