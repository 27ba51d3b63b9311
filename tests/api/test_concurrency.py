"""No double booking under real concurrency: a threaded HTTP server, 30 clients at once.

Runs on whichever database the suite uses: PostgreSQL's exclusion constraint or
SQLite's BEGIN IMMEDIATE transaction must let exactly one booking through.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from pelubot_web.extensions import db
from pelubot_web.models import Reservation
from tests import factories as f
from tests.api.conftest import booking_body

CLIENTS = 30


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def _post(url: str, body: dict[str, object], headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={**headers, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_thirty_simultaneous_overlapping_bookings_let_exactly_one_through(
    live_server: str, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    # 10:00 and 10:15 for a 30-minute service: every pair overlaps.
    bodies = [
        booking_body(salon, f.local(monday, 10, 15 * (i % 2)).isoformat(), n=i)
        for i in range(CLIENTS)
    ]
    barrier = threading.Barrier(CLIENTS)

    def attempt(body: dict[str, object]) -> int:
        barrier.wait(timeout=10)
        return _post(f"{live_server}/api/v1/reservations", body, auth)

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        statuses = Counter(pool.map(attempt, bodies))

    assert statuses == Counter({201: 1, 409: CLIENTS - 1}), statuses
    db.session.rollback()  # end the test's read snapshot (SQLite WAL) before counting
    live = db.session.scalar(
        select(func.count(Reservation.id)).where(
            Reservation.stylist_id == salon.bea.id, Reservation.status != "cancelled"
        )
    )
    assert live == 1


def test_concurrent_back_to_back_bookings_all_succeed(
    live_server: str, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    starts = [
        (f.local(monday, 10) + timedelta(minutes=30 * i)).isoformat() for i in range(8)
    ]  # 10:00 ... 13:30
    bodies = [booking_body(salon, start, n=i) for i, start in enumerate(starts)]
    barrier = threading.Barrier(len(starts))

    def attempt(i: int) -> int:
        barrier.wait(timeout=10)
        return _post(f"{live_server}/api/v1/reservations", bodies[i], auth)

    with ThreadPoolExecutor(max_workers=len(starts)) as pool:
        statuses = list(pool.map(attempt, range(len(starts))))
    assert statuses == [201] * len(starts)
