"""Hostile input at the HTML edges: a clear 4xx (or a sane default), nothing stored."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from pelubot_web.extensions import db
from pelubot_web.models import Reservation, TimeOff
from tests import factories
from tests.web.conftest import Salon, fresh, login, post
from tests.web.test_booking import _details

SPRING_FORWARD = date(2027, 3, 28)  # Madrid: 02:00 -> 03:00


def _count(model: type) -> int:
    fresh()
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (f"{SPRING_FORWARD}T02:30", f"{SPRING_FORWARD}T04:00"),  # starts in the gap
        (f"{SPRING_FORWARD}T01:00", f"{SPRING_FORWARD}T02:15"),  # ends in the gap
        (f"{SPRING_FORWARD}T10:00", f"{SPRING_FORWARD}T10:00"),  # one instant
    ],
    ids=["start-in-gap", "end-in-gap", "zero-length"],
)
def test_time_off_in_a_dst_gap_or_of_no_length_is_a_form_error(
    client: FlaskClient, salon: Salon, start: str, end: str
) -> None:
    login(client, "lucia@salon.test")
    response = post(client, "/pro/time-off", {"start": start, "end": end, "reason": ""})
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert _count(TimeOff) == 0


def test_control_characters_in_a_booking_are_refused_and_nothing_is_stored(
    client: FlaskClient, salon: Salon
) -> None:
    slot = f"{salon.lucia.id}|{factories.local(salon.day, 11).isoformat()}"
    escape = post(client, "/book/", _details(salon, slot, name="Ana \x1b[31mRoja"))
    assert escape.status_code == 422
    nul = post(client, "/book/", _details(salon, slot, notes="hola\x00"))
    assert nul.status_code == 400
    assert _count(Reservation) == 0


@pytest.mark.parametrize(
    "url",
    [
        "/admin/users/99999999999999999999",
        "/admin/stylists/2147483648",
        "/admin/calendar-jobs/99999999999999999999",
    ],
)
def test_ids_beyond_the_database_range_are_404(client: FlaskClient, salon: Salon, url: str) -> None:
    login(client, "admin@salon.test")
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/pro/?date=0001-01-01",
        "/pro/?date=9999-12-31&view=week",
        "/admin/calendar-jobs/?page=99999999999999999999&date=9999-12-31",
        "/book/?service=99999999999999999999&stylist=any&day=9999-12-31",
    ],
)
def test_out_of_range_query_values_fall_back_instead_of_crashing(
    client: FlaskClient, salon: Salon, url: str
) -> None:
    login(client, "admin@salon.test")
    assert client.get(url).status_code == 200


def test_a_nul_in_a_path_segment_is_a_400(client: FlaskClient, salon: Salon) -> None:
    assert client.get("/book/manage/abc%00def").status_code == 400


def test_a_nul_in_any_repeated_query_value_is_a_400(client: FlaskClient, salon: Salon) -> None:
    assert client.get("/book/?day=2027-01-01&day=a%00b").status_code == 400
    assert client.get("/book/?a%00b=1").status_code == 400
