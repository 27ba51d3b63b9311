"""The desk's picture: columns, placed blocks, shades, free cells, the change token."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from pelubot_web.extensions import db
from pelubot_web.models import ExternalBusy
from pelubot_web.services import desk
from tests import factories as f


def test_a_salon_day_has_one_column_per_active_stylist_with_blocks_placed_by_time(
    app: Flask,
) -> None:
    salon = f.Salon()
    f.stylist([salon.cut], hours=f.WEEKDAYS_WITH_LUNCH, name="Inactiva", active=False)
    day = f.next_weekday(2)
    long_one = f.reservation(salon.ana, salon.color, f.local(day, 11, 30), minutes=60)
    f.reservation(salon.bea, salon.cut, f.local(day, 10), status="cancelled")
    db.session.commit()

    view = desk.salon_day(day)
    assert [c.stylist.name for c in view.columns] == ["Ana", "Bea"]
    assert view.first_minute == 10 * 60
    assert view.rows == 10 * 12
    ana, bea = view.columns
    (block,) = ana.blocks
    assert block.reservation.id == long_one.id
    assert (block.row, block.span) == (1 + 90 // 5, 60 // 5)
    assert bea.blocks == []  # cancelled hidden by default
    assert len(desk.salon_day(day, include_cancelled=True).columns[1].blocks) == 1
    assert view.booked == 1
    # Lunch 14:00-15:00 is shaded as not working; no free cell inside it or the booking.
    assert any(s.kind == "out" and s.row == 1 + 4 * 12 and s.span == 12 for s in ana.shades)
    starts = {c.start.astimezone(f.MADRID).strftime("%H:%M") for c in ana.cells}
    assert "10:00" in starts
    assert "11:15" in starts
    assert "11:30" not in starts
    assert "12:15" not in starts
    assert "14:00" not in starts


def test_time_off_google_busy_and_closures_are_shaded(app: Flask) -> None:
    salon = f.Salon()
    day = f.next_weekday(2)
    f.time_off(salon.ana, f.local(day, 16), f.local(day, 18), reason="Médico")
    db.session.add(
        ExternalBusy(
            stylist_id=salon.bea.id,
            calendar_id="bea@calendar.test",
            event_id="ext-1",
            start_at=f.local(day, 12),
            end_at=f.local(day, 13),
        )
    )
    f.closure(day + timedelta(days=1))
    db.session.commit()
    ana, bea = desk.salon_day(day).columns
    off = [s for s in ana.shades if s.kind == "off"]
    assert [(s.row, s.span, s.label) for s in off] == [(1 + 6 * 12, 24, "Médico")]
    assert [s.kind for s in bea.shades if s.kind == "busy"] == ["busy"]
    assert all(not (12 <= c.start.astimezone(f.MADRID).hour < 13) for c in bea.cells)
    closed = desk.salon_day(day + timedelta(days=1))
    assert all([s.kind for s in c.shades] == ["closed"] and not c.cells for c in closed.columns)


def test_a_stylist_week_has_seven_day_columns(app: Flask) -> None:
    salon = f.Salon()
    day = f.next_weekday(2)
    f.reservation(salon.ana, salon.cut, f.local(day, 10))
    db.session.commit()
    view = desk.stylist_week(salon.ana, day)
    assert [c.day.weekday() for c in view.columns] == list(range(7))
    assert [len(c.blocks) for c in view.columns] == [0, 0, 1, 0, 0, 0, 0]
    assert not view.columns[5].cells  # Saturday: Ana does not work


def test_the_change_token_moves_only_when_something_changed(app: Flask) -> None:
    salon = f.Salon()
    now = f.utc(f.local(f.next_weekday(2), 9, 1))
    before = desk.changes_token(now)
    assert desk.changes_token(now + timedelta(minutes=1)) == before
    r = f.reservation(salon.ana, salon.cut, f.local(f.next_weekday(2), 10))
    db.session.commit()
    after_booking = desk.changes_token(now)
    assert after_booking != before
    r.status = "cancelled"
    db.session.commit()
    assert desk.changes_token(now) != after_booking
    assert desk.changes_token(now + timedelta(minutes=5)) != desk.changes_token(now)
