"""Reservation lists at scale: keyset pages (``after``) and the capped ``total``."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient

from pelubot_web.extensions import db
from pelubot_web.services import reservation_list
from tests import factories as f


def make_reservations(salon: f.Salon, monday: date, count: int) -> None:
    """``count`` reservations, several sharing a start (so ties are ordered by id)."""
    for n in range(count):
        stylist = salon.ana if n % 2 else salon.bea
        start = f.local(monday + timedelta(days=n // 8), 10 + (n % 8) // 2)
        f.reservation(stylist, salon.cut, start, status="cancelled" if n % 5 == 0 else "confirmed")
    db.session.commit()


def ids(page: dict[str, object]) -> list[str]:
    return [item["id"] for item in page["items"]]  # type: ignore[attr-defined,index]


def test_walking_after_cursors_gives_the_offset_order_without_gaps_or_repeats(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    make_reservations(salon, monday, 23)
    everything = client.get("/api/v1/reservations?limit=100", headers=auth).get_json()
    assert everything["total"] == 23
    assert everything["total_exact"] is True
    assert everything["next_after"] is None

    walked: list[str] = []
    url = f"/api/v1/reservations?limit=5&professional_id={salon.ana.id}"
    by_ana = client.get(url.replace("limit=5", "limit=100"), headers=auth).get_json()
    page = client.get(url, headers=auth).get_json()
    while True:
        walked += ids(page)
        if page["next_after"] is None:
            break
        page = client.get(f"{url}&after={page['next_after']}", headers=auth).get_json()
    assert walked == ids(by_ana)
    assert len(walked) == 11

    offset_page = client.get("/api/v1/reservations?limit=5&offset=5", headers=auth).get_json()
    first = client.get("/api/v1/reservations?limit=5", headers=auth).get_json()
    cursor_page = client.get(
        f"/api/v1/reservations?limit=5&after={first['next_after']}", headers=auth
    ).get_json()
    assert ids(cursor_page) == ids(offset_page) == ids(everything)[5:10]


def test_bad_cursors_and_cursor_with_offset_are_422_naming_after(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    make_reservations(salon, monday, 3)
    first = client.get("/api/v1/reservations?limit=1", headers=auth).get_json()
    for query in (
        "after=not-a-cursor",
        "after=MjAyNy0wMS0wMXwx",  # "2027-01-01|1": no UTC offset
        "after=fHw",
        f"after={first['next_after']}&offset=3",
    ):
        response = client.get(f"/api/v1/reservations?{query}", headers=auth)
        assert response.status_code == 422, query
        assert response.get_json()["errors"][0]["field"] == "after"


def test_total_stops_counting_at_the_cap_and_says_so(
    client: FlaskClient,
    salon: f.Salon,
    auth: dict[str, str],
    monday: date,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_reservations(salon, monday, 9)
    monkeypatch.setattr(reservation_list, "TOTAL_CAP", 6)
    page = client.get("/api/v1/reservations?limit=2", headers=auth).get_json()
    assert (page["total"], page["total_exact"]) == (6, False)
    assert len(page["items"]) == 2
    assert page["next_after"] is not None
    deep = client.get("/api/v1/reservations?limit=5&offset=7", headers=auth).get_json()
    assert len(deep["items"]) == 2
    assert deep["next_after"] is None
    few = client.get(
        f"/api/v1/reservations?professional_id={salon.ana.id}&status=cancelled", headers=auth
    ).get_json()
    assert (few["total"], few["total_exact"]) == (1, True)
