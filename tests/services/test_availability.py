"""Availability: every rule of the salon, in its time zone, across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask

from pelubot_web.extensions import db
from pelubot_web.models import ExternalBusy
from pelubot_web.services import booking
from pelubot_web.services.availability import available_slots, check_bookable
from pelubot_web.services.catalog import offering
from pelubot_web.services.errors import (
    OffGrid,
    OutsideWorkingHours,
    ServiceNotOffered,
    SlotTaken,
    TooFarAhead,
    TooSoon,
)
from tests import factories as f

MONDAY = date(2027, 3, 15)
NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)  # well before MONDAY


def starts(slots: list, stylist_id: int | None = None) -> list[str]:
    return [
        s.start.strftime("%H:%M") for s in slots if stylist_id is None or s.stylist_id == stylist_id
    ]


@pytest.fixture
def salon(app: Flask) -> f.Salon:
    return f.Salon()


def test_slots_follow_working_hours_and_leave_the_lunch_break_free(salon: f.Salon) -> None:
    slots = available_slots(salon.cut.id, MONDAY, stylist_id=salon.bea.id, now=NOW)
    got = starts(slots)
    assert got[0] == "10:00"
    assert "13:30" in got  # ends 14:00, exactly at the break
    assert "13:45" not in got  # would run into the break
    assert not [s for s in got if s.startswith("14:")]
    assert "15:00" in got
    assert got[-1] == "19:30"
    assert len(got) == 15 + 19  # 10:00-13:30 and 15:00-19:30 every 15 min
    assert all(s.end - s.start == timedelta(minutes=30) for s in slots)


def test_slots_carry_the_salon_offset(salon: f.Salon) -> None:
    slot = available_slots(salon.cut.id, MONDAY, stylist_id=salon.bea.id, now=NOW)[0]
    assert slot.start.isoformat() == "2027-03-15T10:00:00+01:00"


def test_time_off_removes_the_slots_it_overlaps(salon: f.Salon) -> None:
    f.time_off(salon.bea, f.local(MONDAY, 11), f.local(MONDAY, 12))
    db.session.commit()
    got = starts(available_slots(salon.cut.id, MONDAY, stylist_id=salon.bea.id, now=NOW))
    assert "10:30" in got  # ends when the time off starts
    assert "10:45" not in got
    assert "11:30" not in got
    assert "12:00" in got


def test_buffer_after_a_booking_keeps_the_stylist_busy(app: Flask) -> None:
    salon = f.Salon(buffer_after_min=15)
    booking.create_reservation(
        service_id=salon.cut.id,
        stylist_id=salon.bea.id,
        start=f.local(MONDAY, 11),
        customer=booking.CustomerInput("Eva", "600111222"),
        notes=None,
        source="chatbot",
        now=NOW,
    )
    got = starts(available_slots(salon.cut.id, MONDAY, stylist_id=salon.bea.id, now=NOW))
    assert "10:15" in got  # 10:15-10:45 + 15 min buffer ends at 11:00
    assert "10:30" not in got  # its buffer would overlap the 11:00 booking
    assert "11:30" not in got  # inside the 11:00 booking's buffer
    assert "11:45" in got


def test_minimum_notice_hides_starts_that_are_too_soon(salon: f.Salon) -> None:
    now = f.local(MONDAY, 10, 5)  # notice 60 min -> earliest 11:05 -> first grid 11:15
    got = starts(available_slots(salon.cut.id, MONDAY, stylist_id=salon.bea.id, now=now))
    assert got[0] == "11:15"
    offer = offering(salon.bea.id, salon.cut.id)
    with pytest.raises(TooSoon):
        check_bookable(offer, f.local(MONDAY, 11), now=now)


def test_maximum_advance_ends_the_bookable_range(app: Flask) -> None:
    salon = f.Salon(max_advance_days=7)
    now = f.local(MONDAY, 9)
    last = MONDAY + timedelta(days=7)
    assert available_slots(salon.cut.id, last, stylist_id=salon.bea.id, now=now)
    assert available_slots(salon.cut.id, last + timedelta(days=1), now=now) == []
    spread = available_slots(salon.cut.id, MONDAY, stylist_id=salon.bea.id, days=14, now=now)
    assert max(s.start.date() for s in spread) == last
    offer = offering(salon.bea.id, salon.cut.id)
    with pytest.raises(TooFarAhead):
        check_bookable(offer, f.local(last + timedelta(days=1), 10), now=now)


def test_per_stylist_duration_override_changes_slot_length(salon: f.Salon) -> None:
    slots = available_slots(salon.color.id, MONDAY, stylist_id=salon.ana.id, now=NOW)
    assert all(s.end - s.start == timedelta(minutes=60) for s in slots)
    got = starts(slots)
    assert "13:00" in got
    assert "13:15" not in got


def test_any_stylist_mode_lists_everyone_who_offers_the_service(salon: f.Salon) -> None:
    f.reservation(salon.ana, salon.cut, f.local(MONDAY, 10))
    db.session.commit()
    slots = available_slots(salon.cut.id, MONDAY, now=NOW)
    at_ten = [s.stylist_id for s in slots if s.start.strftime("%H:%M") == "10:00"]
    assert at_ten == [salon.bea.id]  # Ana is booked at 10:00
    at_eleven = [s.stylist_id for s in slots if s.start.strftime("%H:%M") == "11:00"]
    assert at_eleven == sorted([salon.ana.id, salon.bea.id])
    assert slots == sorted(slots, key=lambda s: (s.start.astimezone(UTC), s.stylist_id))
    # Only Ana offers colour.
    assert {s.stylist_id for s in available_slots(salon.color.id, MONDAY, now=NOW)} == {
        salon.ana.id
    }


def test_cancelled_booking_frees_the_slot(salon: f.Salon) -> None:
    res = f.reservation(salon.bea, salon.cut, f.local(MONDAY, 10))
    db.session.commit()
    assert "10:00" not in starts(
        available_slots(salon.cut.id, MONDAY, stylist_id=salon.bea.id, now=NOW)
    )
    res.status = "cancelled"
    db.session.commit()
    assert "10:00" in starts(
        available_slots(salon.cut.id, MONDAY, stylist_id=salon.bea.id, now=NOW)
    )


def test_salon_closure_and_external_calendar_blocks_remove_slots(salon: f.Salon) -> None:
    f.closure(MONDAY)
    db.session.add(
        ExternalBusy(
            stylist_id=salon.bea.id,
            calendar_id=salon.bea.calendar_id,
            event_id="dentist",
            start_at=f.local(MONDAY + timedelta(days=1), 12),
            end_at=f.local(MONDAY + timedelta(days=1), 13),
        )
    )
    db.session.commit()
    assert available_slots(salon.cut.id, MONDAY, now=NOW) == []
    tuesday = starts(
        available_slots(salon.cut.id, MONDAY + timedelta(days=1), stylist_id=salon.bea.id, now=NOW)
    )
    assert "11:30" in tuesday
    assert "11:45" not in tuesday
    assert "12:30" not in tuesday
    assert "13:00" in tuesday
    offer = offering(salon.bea.id, salon.cut.id)
    with pytest.raises(SlotTaken):
        check_bookable(offer, f.local(MONDAY + timedelta(days=1), 12), now=NOW)
    with pytest.raises(OutsideWorkingHours):
        check_bookable(offer, f.local(MONDAY, 12), now=NOW)


def test_a_closure_of_several_days_closes_each_of_them_for_searches_and_bookings(
    salon: f.Salon,
) -> None:
    wednesday, friday = MONDAY + timedelta(days=2), MONDAY + timedelta(days=4)
    f.closure(wednesday, friday)
    db.session.commit()
    week = available_slots(salon.cut.id, MONDAY, days=5, stylist_id=salon.bea.id, now=NOW)
    assert {s.start.date() for s in week} == {MONDAY, MONDAY + timedelta(days=1)}
    offer = offering(salon.bea.id, salon.cut.id)
    with pytest.raises(OutsideWorkingHours, match="closed"):
        check_bookable(offer, f.local(MONDAY + timedelta(days=3), 12), now=NOW)
    assert check_bookable(offer, f.local(MONDAY + timedelta(days=1), 12), now=NOW)


def test_check_bookable_refuses_off_grid_and_out_of_hours_starts(salon: f.Salon) -> None:
    offer = offering(salon.bea.id, salon.cut.id)
    with pytest.raises(OffGrid):
        check_bookable(offer, f.local(MONDAY, 10, 10), now=NOW)
    with pytest.raises(OutsideWorkingHours):
        check_bookable(offer, f.local(MONDAY, 13, 45), now=NOW)  # would end in the break
    with pytest.raises(OutsideWorkingHours):
        check_bookable(offer, f.local(MONDAY, 8), now=NOW)
    with pytest.raises(ServiceNotOffered):
        offering(salon.bea.id, salon.color.id)
    ok = check_bookable(offer, f.local(MONDAY, 13, 30), now=NOW)
    assert ok.end == f.local(MONDAY, 14)


# --- DST: Europe/Madrid moves to +02:00 on 2027-03-28 and back to +01:00 on 2027-10-31 ---


def _sunday_stylist(salon: f.Salon, intervals: list[tuple[time, time]]) -> int:
    who = f.stylist([salon.cut], hours={6: intervals}, name="Domingo")
    db.session.commit()
    return int(who.id)


def test_spring_forward_day_uses_the_new_offset_after_the_change(salon: f.Salon) -> None:
    sunday = date(2027, 3, 28)
    who = _sunday_stylist(salon, [(time(10), time(14))])
    slots = available_slots(
        salon.cut.id, sunday - timedelta(days=1), stylist_id=who, days=3, now=NOW
    )
    assert [s.start.isoformat() for s in slots][:2] == [
        "2027-03-28T10:00:00+02:00",
        "2027-03-28T10:15:00+02:00",
    ]
    assert all(s.start.date() == sunday for s in slots)
    assert slots[0].start.astimezone(UTC).hour == 8
    assert len(slots) == 15  # 10:00-13:30, unaffected by the lost hour


def test_spring_forward_gap_has_no_slots_at_wall_times_that_do_not_exist(
    app: Flask,
) -> None:
    salon = f.Salon(slot_granularity_min=60)
    who = _sunday_stylist(salon, [(time(1), time(4))])
    slots = available_slots(salon.cut.id, date(2027, 3, 28), stylist_id=who, now=NOW)
    # 01:00-04:00 on the wall is two real hours: 02:00-02:59 does not exist.
    assert [s.start.isoformat() for s in slots] == [
        "2027-03-28T01:00:00+01:00",
        "2027-03-28T03:00:00+02:00",
    ]
    offer = offering(who, salon.cut.id)
    ok = check_bookable(offer, datetime(2027, 3, 28, 0, 0, tzinfo=UTC), now=NOW)
    assert ok.start.astimezone(f.MADRID).isoformat() == "2027-03-28T01:00:00+01:00"


def test_fall_back_day_offers_the_repeated_hour_twice_with_both_offsets(app: Flask) -> None:
    salon = f.Salon(slot_granularity_min=60)
    who = _sunday_stylist(salon, [(time(1), time(4)), (time(10), time(12))])
    now = datetime(2027, 10, 20, 9, 0, tzinfo=UTC)
    slots = available_slots(salon.cut.id, date(2027, 10, 31), stylist_id=who, now=now)
    assert [s.start.isoformat() for s in slots] == [
        "2027-10-31T01:00:00+02:00",
        "2027-10-31T02:00:00+02:00",
        "2027-10-31T02:00:00+01:00",  # the same wall time, one real hour later
        "2027-10-31T03:00:00+01:00",
        "2027-10-31T10:00:00+01:00",
        "2027-10-31T11:00:00+01:00",
    ]
    second = slots[2]
    # Same-zone datetime subtraction is wall-clock in Python: compare instants in UTC.
    assert second.start.astimezone(UTC) - slots[1].start.astimezone(UTC) == timedelta(hours=1)
    assert second.end.isoformat() == "2027-10-31T02:30:00+01:00"
