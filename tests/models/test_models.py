"""Model-level guarantees: UTC times, and no overlapping live reservations in PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pelubot_web.extensions import db
from pelubot_web.models import Reservation
from tests import factories as f


def test_times_come_back_timezone_aware_in_utc(app: Flask) -> None:
    svc = f.service()
    sty = f.stylist([svc])
    start = f.local(f.next_weekday(0), 10)
    res = f.reservation(sty, svc, start)
    db.session.commit()
    db.session.expire_all()
    loaded = db.session.scalar(select(Reservation).where(Reservation.id == res.id))
    assert loaded is not None
    assert loaded.start_at.tzinfo is not None
    assert loaded.start_at.utcoffset() == timedelta(0)
    assert loaded.start_at == start


def test_naive_datetimes_are_refused(app: Flask) -> None:
    svc = f.service()
    sty = f.stylist([svc])
    with pytest.raises(Exception, match="naive"):
        f.reservation(sty, svc, datetime(2030, 1, 7, 10, 0))
    db.session.rollback()


def test_reservation_uuids_are_unique_and_public(app: Flask) -> None:
    svc = f.service()
    sty = f.stylist([svc])
    day = f.next_weekday(1)
    a = f.reservation(sty, svc, f.local(day, 10))
    b = f.reservation(sty, svc, f.local(day, 11))
    assert a.uuid != b.uuid
    assert len(a.uuid) == 36


@pytest.mark.postgres_only(reason="exclusion constraints")
def test_postgres_refuses_overlapping_live_reservations(app: Flask) -> None:
    svc = f.service(duration_min=60)
    sty = f.stylist([svc])
    start = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
    f.reservation(sty, svc, start)
    db.session.commit()
    with pytest.raises(IntegrityError, match="ex_reservations_no_overlap"):
        f.reservation(sty, svc, start + timedelta(minutes=30))
    db.session.rollback()


@pytest.mark.postgres_only(reason="exclusion constraints")
def test_postgres_allows_back_to_back_and_over_cancelled(app: Flask) -> None:
    svc = f.service(duration_min=60)
    sty = f.stylist([svc])
    start = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
    f.reservation(sty, svc, start)
    f.reservation(sty, svc, start + timedelta(minutes=60))
    f.reservation(sty, svc, start - timedelta(minutes=30), status="cancelled")
    f.reservation(sty, svc, start - timedelta(minutes=60), minutes=60)
    db.session.commit()


def test_a_stylist_with_reservations_cannot_be_deleted(app: Flask) -> None:
    """Foreign keys hold on SQLite too (PRAGMA foreign_keys), not only on PostgreSQL."""
    svc = f.service()
    sty = f.stylist([svc])
    f.reservation(sty, svc, f.local(f.next_weekday(0), 10))
    db.session.commit()
    db.session.delete(sty)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
