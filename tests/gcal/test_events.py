"""Event ids and bodies: what Google will accept and what the stylist sees."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from pelubot_web.gcal.events import (
    PELUBOT_PROPERTY,
    EventData,
    build_event_body,
    event_id_for,
    is_pelubot_event,
    reservation_id_of,
)

GOOGLE_EVENT_ID = re.compile(r"^[0-9a-v]{5,1024}$")
RESERVATION = "6f1c2b8e-4d3a-4c5b-9e7f-0a1b2c3d4e5f"


def event_data(**overrides: object) -> EventData:
    fields: dict[str, object] = {
        "reservation_uuid": RESERVATION,
        "service_name": "Corte y peinado",
        "customer_first_name": "Lucía",
        "customer_phone": "+34600111222",
        "stylist_name": "Ana",
        "start": datetime(2026, 1, 15, 9, 0, tzinfo=UTC),  # 10:00 in Madrid (CET)
        "end": datetime(2026, 1, 15, 9, 45, tzinfo=UTC),
        "timezone": "Europe/Madrid",
        "notes": "Alérgica al tinte",
    }
    fields.update(overrides)
    return EventData(**fields)  # type: ignore[arg-type]


def test_event_id_is_deterministic_and_valid_for_google() -> None:
    event_id = event_id_for(RESERVATION)

    assert event_id == event_id_for(RESERVATION.upper())
    assert event_id == event_id_for(uuid.UUID(RESERVATION))
    assert GOOGLE_EVENT_ID.match(event_id)
    assert len(event_id) == 26


def test_event_id_is_the_base32hex_of_the_uuid_bytes() -> None:
    event_id = event_id_for(RESERVATION)
    decoded = base64.b32hexdecode(event_id.upper() + "======")

    assert decoded == uuid.UUID(RESERVATION).bytes


def test_different_reservations_get_different_event_ids() -> None:
    ids = {event_id_for(str(uuid.uuid4())) for _ in range(1000)}

    assert len(ids) == 1000
    assert all(GOOGLE_EVENT_ID.match(event_id) for event_id in ids)


def test_event_id_rejects_something_that_is_not_a_uuid() -> None:
    with pytest.raises(ValueError, match="badly formed hexadecimal UUID string"):
        event_id_for("not-a-uuid")


def test_event_body_shows_local_times_in_the_salon_zone() -> None:
    body = build_event_body(event_data())

    assert body["start"] == {"dateTime": "2026-01-15T10:00:00+01:00", "timeZone": "Europe/Madrid"}
    assert body["end"] == {"dateTime": "2026-01-15T10:45:00+01:00", "timeZone": "Europe/Madrid"}


def test_event_body_uses_summer_time_after_the_dst_change() -> None:
    start = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    body = build_event_body(event_data(start=start, end=start + timedelta(minutes=30)))

    assert body["start"]["dateTime"] == "2026-07-01T10:00:00+02:00"


def test_event_body_identifies_the_reservation() -> None:
    body = build_event_body(event_data())

    assert body["id"] == event_id_for(RESERVATION)
    assert body["status"] == "confirmed"
    assert body["summary"] == "Corte y peinado — Lucía"
    assert body["extendedProperties"] == {
        "private": {PELUBOT_PROPERTY: RESERVATION, "pelubot_source": "pelubot"}
    }
    assert "source" not in body


def test_event_description_has_the_booking_details() -> None:
    description = build_event_body(event_data(manage_url="https://pelu.test/m/abc"))["description"]

    for expected in (
        "Servicio: Corte y peinado",
        "Estilista: Ana",
        "Cliente: Lucía",
        "Teléfono: +34600111222",
        "Notas: Alérgica al tinte",
        "https://pelu.test/m/abc",
        RESERVATION,
    ):
        assert expected in description


def test_event_description_leaves_out_empty_notes() -> None:
    description = build_event_body(event_data(notes=None))["description"]

    assert "Notas" not in description


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_event_body(event_data(start=datetime(2026, 1, 15, 10, 0)))


def test_pelubot_events_are_recognised_and_others_are_not() -> None:
    ours = build_event_body(event_data())
    theirs = {"id": "abcde12345", "summary": "Dentista", "extendedProperties": {"private": {}}}

    assert is_pelubot_event(ours)
    assert reservation_id_of(ours) == RESERVATION
    assert not is_pelubot_event(theirs)
    assert not is_pelubot_event({"id": "abcde12345"})


def test_customer_text_in_the_description_is_shown_as_text_not_rendered() -> None:
    hostile = '<a href="https://evil.test">click</a> & <img src=x onerror=alert(1)>'
    description = build_event_body(
        event_data(customer_first_name="<b>Eve</b>", notes=f"{hostile}\nsecond line")
    )["description"]

    assert "<a " not in description
    assert "<img" not in description
    assert "<b>" not in description
    assert "Cliente: &lt;b&gt;Eve&lt;/b&gt;" in description
    assert 'Notas: &lt;a href="https://evil.test"&gt;click&lt;/a&gt; &amp; ' in description
    # Line breaks are the only markup PeluBot itself writes.
    assert description.count("<br>") == description.count("<")
    assert "<br>second line" in description
