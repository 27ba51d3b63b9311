"""Reservations through the API: book, read, reschedule, cancel, sync state, idempotency."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from pelubot_web.api.schemas import ReservationSchema, reservation_json
from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.models import CalendarSyncJob, IdempotencyRecord, Reservation
from tests import factories as f
from tests.api.conftest import booking_body
from tests.conftest import sql_statements


def iso(day: date, hour: int, minute: int = 0) -> str:
    return f.local(day, hour, minute).isoformat()


def count_reservations() -> int:
    db.session.rollback()  # a fresh snapshot: requests commit through their own sessions
    return int(db.session.scalar(select(func.count(Reservation.id))) or 0)


def test_full_conversation_book_read_reschedule_cancel_and_sync(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    slots = client.get(
        f"/api/v1/slots?service_id={salon.cut.id}&date={monday}&professional_id={salon.bea.id}",
        headers=auth,
    )
    assert slots.status_code == 200, slots.get_json()
    first = slots.get_json()["items"][0]
    assert first["start"] == iso(monday, 10)  # with the salon's offset
    assert slots.get_json()["timezone"] == "Europe/Madrid"

    created = client.post(
        "/api/v1/reservations", json=booking_body(salon, first["start"]), headers=auth
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert created.headers["Location"] == f"/api/v1/reservations/{body['id']}"
    assert body["status"] == "confirmed"
    assert body["version"] == 1
    assert body["start"] == iso(monday, 10)
    assert body["end"] == iso(monday, 10, 30)
    assert body["customer"] == {"name": "Cliente 1", "phone": "+34600000001", "email": None}
    assert body["source"] == "chatbot"
    assert body["notes"] == "Primera vez"
    assert body["sync"]["status"] == "pending"
    assert body["sync"]["attempts"] == 0
    assert body["sync"]["job_id"] is not None

    got = client.get(f"/api/v1/reservations/{body['id']}", headers=auth).get_json()
    assert got == body

    moved = client.patch(
        f"/api/v1/reservations/{body['id']}",
        json={"start": iso(monday, 16), "notes": None},
        headers=auth,
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["start"] == iso(monday, 16)
    assert moved.get_json()["version"] == 2
    assert moved.get_json()["notes"] is None
    assert moved.get_json()["sync"]["status"] == "pending"

    cancelled = client.post(f"/api/v1/reservations/{body['id']}/cancel", headers=auth)
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    again = client.post(f"/api/v1/reservations/{body['id']}/cancel", headers=auth)
    assert again.status_code == 200
    assert again.get_json() == cancelled.get_json()

    sync = client.get(f"/api/v1/reservations/{body['id']}/sync", headers=auth)
    assert sync.status_code == 200
    db.session.rollback()  # see what the requests committed
    job = db.session.get(CalendarSyncJob, sync.get_json()["job_id"])
    assert job is not None
    assert job.target_version == 3
    assert sync.get_json() == {
        "status": "pending",
        "job_id": job.id,
        "attempts": job.attempts,
        "last_error": None,
        "last_synced_at": None,
    }


def test_slot_taken_is_409_problem_and_back_to_back_is_fine(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    ok = client.post(
        "/api/v1/reservations", json=booking_body(salon, iso(monday, 10)), headers=auth
    )
    assert ok.status_code == 201
    taken = client.post(
        "/api/v1/reservations", json=booking_body(salon, iso(monday, 10, 15), 2), headers=auth
    )
    assert taken.status_code == 409
    assert taken.content_type == "application/problem+json"
    problem = taken.get_json()
    assert problem["status"] == 409
    assert problem["code"] == "slot_taken"
    assert problem["type"] == "urn:pelubot:problem:slot_taken"
    after = client.post(
        "/api/v1/reservations", json=booking_body(salon, iso(monday, 10, 30), 3), headers=auth
    )
    assert after.status_code == 201
    assert count_reservations() == 2


def test_rule_violations_are_422_with_the_field_named(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    cases = {
        "off_grid": booking_body(salon, iso(monday, 10, 7)),
        "outside_working_hours": booking_body(salon, iso(monday, 14, 15)),
        "service_not_offered": booking_body(salon, iso(monday, 10), service_id=salon.color.id),
        "too_soon": booking_body(salon, "2020-01-06T10:00:00+01:00"),
        "too_far_ahead": booking_body(salon, "2099-01-05T10:00:00+01:00"),
        "invalid_phone": booking_body(
            salon, iso(monday, 10), customer={"name": "Eva", "phone": "12345"}
        ),
    }
    for code, body in cases.items():
        response = client.post("/api/v1/reservations", json=body, headers=auth)
        assert response.status_code == 422, (code, response.get_json())
        problem = response.get_json()
        assert problem["code"] == code
        assert problem["errors"][0]["field"] in ("start", "service_id", "customer.phone")
    assert count_reservations() == 0


def test_schema_errors_list_every_bad_field(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/reservations",
        json={
            "service_id": "x",
            "start": "2027-03-29T10:00:00",  # no offset
            "customer": {"name": "", "phone": "600123456", "email": "nope"},
            "extra": 1,
        },
        headers=auth,
    )
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    fields = {e["field"] for e in response.get_json()["errors"]}
    assert fields == {
        "service_id",
        "start",
        "professional_id",
        "customer.name",
        "customer.email",
        "extra",
    }
    assert all(e["location"] == "json" for e in response.get_json()["errors"])


def test_unknown_reservation_is_404_and_non_uuid_path_too(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str]
) -> None:
    for path in (f"/api/v1/reservations/{uuid.uuid4()}", "/api/v1/reservations/nope"):
        response = client.get(path, headers=auth)
        assert response.status_code == 404
        assert response.content_type == "application/problem+json"
    response = client.post(f"/api/v1/reservations/{uuid.uuid4()}/cancel", headers=auth)
    assert response.status_code == 404


def test_idempotency_key_replays_the_original_response_and_refuses_a_different_body(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    headers = {**auth, "Idempotency-Key": "conv-42-booking-1"}
    body = booking_body(salon, iso(monday, 10))
    first = client.post("/api/v1/reservations", json=body, headers=headers)
    assert first.status_code == 201
    # The client timed out and retries (keys reordered: same JSON).
    retry = client.post(
        "/api/v1/reservations",
        data=json.dumps(dict(reversed(list(body.items())))),
        content_type="application/json",
        headers=headers,
    )
    assert retry.status_code == 201
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.headers["Location"] == first.headers["Location"]
    assert count_reservations() == 1

    other = client.post(
        "/api/v1/reservations", json=booking_body(salon, iso(monday, 11)), headers=headers
    )
    assert other.status_code == 422
    assert other.get_json()["code"] == "idempotency_mismatch"
    # Without a key, the same request is a new attempt: the slot is now taken.
    plain = client.post("/api/v1/reservations", json=body, headers=auth)
    assert plain.status_code == 409
    assert db.session.scalar(select(func.count(IdempotencyRecord.id))) == 1


def test_idempotency_keys_are_per_api_key(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    from pelubot_web.services.accounts import create_api_key

    other_key = {"X-API-Key": create_api_key("other-bot", ["booking"]).secret}
    key = {"Idempotency-Key": "same-key"}
    a = client.post(
        "/api/v1/reservations", json=booking_body(salon, iso(monday, 10)), headers={**auth, **key}
    )
    b = client.post(
        "/api/v1/reservations",
        json=booking_body(salon, iso(monday, 11), 2),
        headers={**other_key, **key},
    )
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.get_json()["id"] != b.get_json()["id"]


def test_pagination_bounds_order_and_filters(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    ids = []
    for i, hour in enumerate([12, 10, 11, 16, 17]):
        response = client.post(
            "/api/v1/reservations", json=booking_body(salon, iso(monday, hour), i), headers=auth
        )
        ids.append((hour, response.get_json()["id"]))
    ana = client.post(
        "/api/v1/reservations",
        json=booking_body(salon, iso(monday, 10), 9, professional_id=salon.ana.id),
        headers=auth,
    ).get_json()["id"]
    client.post(f"/api/v1/reservations/{dict(ids)[17]}/cancel", headers=auth)

    page = client.get("/api/v1/reservations", headers=auth).get_json()
    assert (page["limit"], page["offset"], page["total"]) == (20, 0, 6)
    # By start, then id: Bea's and Ana's 10:00 bookings in creation (id) order.
    assert [r["id"] for r in page["items"]] == [
        dict(ids)[10],
        ana,
        dict(ids)[11],
        dict(ids)[12],
        dict(ids)[16],
        dict(ids)[17],
    ]

    second = client.get("/api/v1/reservations?limit=2&offset=2", headers=auth).get_json()
    assert [r["id"] for r in second["items"]] == [r["id"] for r in page["items"][2:4]]
    assert second["total"] == 6
    assert client.get("/api/v1/reservations?offset=10", headers=auth).get_json()["items"] == []

    for bad in ("limit=0", "limit=101", "offset=-1", "status=lost", "start_from=2027-03-29"):
        response = client.get(f"/api/v1/reservations?{bad}", headers=auth)
        assert response.status_code == 422, bad
        assert response.get_json()["errors"][0]["location"] == "query"
    assert client.get("/api/v1/reservations?limit=100", headers=auth).status_code == 200

    by_pro = client.get(f"/api/v1/reservations?professional_id={salon.ana.id}", headers=auth)
    assert [r["id"] for r in by_pro.get_json()["items"]] == [ana]
    cancelled = client.get("/api/v1/reservations?status=cancelled", headers=auth).get_json()
    assert [r["id"] for r in cancelled["items"]] == [dict(ids)[17]]
    window = client.get(
        "/api/v1/reservations",
        query_string={"start_from": iso(monday, 11), "start_to": iso(monday, 16)},
        headers=auth,
    ).get_json()
    assert [r["id"] for r in window["items"]] == [dict(ids)[11], dict(ids)[12]]


def test_reschedule_validation_and_not_modifiable(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    rid = client.post(
        "/api/v1/reservations", json=booking_body(salon, iso(monday, 10)), headers=auth
    ).get_json()["id"]
    empty = client.patch(f"/api/v1/reservations/{rid}", json={}, headers=auth)
    assert empty.status_code == 422
    to_ana = client.patch(
        f"/api/v1/reservations/{rid}", json={"professional_id": salon.ana.id}, headers=auth
    )
    assert to_ana.status_code == 200
    assert to_ana.get_json()["professional_id"] == salon.ana.id
    client.post(f"/api/v1/reservations/{rid}/cancel", headers=auth)
    late = client.patch(
        f"/api/v1/reservations/{rid}", json={"start": iso(monday, 12)}, headers=auth
    )
    assert late.status_code == 409
    assert late.get_json()["code"] == "not_modifiable"


def test_a_page_of_reservations_takes_two_queries_however_long(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    for i, hour in enumerate([10, 11, 12]):
        response = client.post(
            "/api/v1/reservations", json=booking_body(salon, iso(monday, hour), i), headers=auth
        )
        assert response.status_code == 201
    with sql_statements() as queries:
        page = client.get("/api/v1/reservations", headers=auth).get_json()
    assert [r["sync"]["attempts"] for r in page["items"]] == [0, 0, 0]
    assert {r["customer"]["name"] for r in page["items"]} == {"Cliente 0", "Cliente 1", "Cliente 2"}
    # The page with its customers and sync jobs, then the capped count: no query per row.
    reads = [q for q in queries if q.upper().startswith("SELECT")]
    assert len(reads) == 2, reads
    assert sum("calendar_sync_jobs" in q for q in reads) == 1


def test_a_booking_does_not_read_back_what_it_just_wrote(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    client.post("/api/v1/reservations", json=booking_body(salon, iso(monday, 10), 1), headers=auth)
    with sql_statements() as queries:
        created = client.post(
            "/api/v1/reservations",
            json=booking_body(salon, iso(monday, 11), 2),
            headers={**auth, "Idempotency-Key": "one-booking"},
        )
    assert created.status_code == 201
    assert created.get_json()["sync"]["job_id"] is not None
    reads = [q for q in queries if q.upper().startswith("SELECT")]
    # A new reservation has no outbox rows or reminders to look for, and its answer is
    # built inside the transaction (no reservation, customer or job read afterwards).
    assert not [q for q in reads if "FROM calendar_sync_jobs" in q or "FROM notifications" in q]
    assert not [q for q in reads if q.startswith("SELECT reservations.")]
    assert sum("FROM webhook_endpoints" in q for q in reads) == 1


def test_a_cancel_or_move_reads_the_reservation_once_and_updates_its_row_in_place(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    created = client.post(
        "/api/v1/reservations", json=booking_body(salon, iso(monday, 10), 1), headers=auth
    ).get_json()
    url = f"/api/v1/reservations/{created['id']}"
    with sql_statements() as moving:
        assert client.patch(url, json={"start": iso(monday, 12)}, headers=auth).status_code == 200
    with sql_statements() as cancelling:
        assert client.post(f"{url}/cancel", json={}, headers=auth).status_code == 200
    for queries in (moving, cancelling):
        reads = [q for q in queries if q.startswith("SELECT")]
        # The locked reservation with its stylist and customer in one query (no lazy
        # loads); the open outbox row is retargeted by one UPDATE ... RETURNING.
        lazy = ("FROM stylists WHERE stylists.id =", "FROM customers WHERE customers.id =")
        assert not [q for q in reads if any(one in q for one in lazy)]
        assert not [q for q in reads if q.startswith("SELECT calendar_sync_jobs.")]
        assert (
            sum(q.startswith("UPDATE calendar_sync_jobs SET target_version") for q in queries) == 1
        )
    # A cancel plans no reminders, so it does not look for existing ones.
    assert not [q for q in cancelling if "FROM notifications" in q and q.startswith("SELECT")]


def test_reservation_json_is_what_the_reservation_schema_dumps(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    """The answers are built without marshmallow; the schema documents them (OpenAPI)."""
    ids = []
    for n, hour in enumerate((10, 11, 12)):
        body = booking_body(salon, iso(monday, hour), n, notes=None if n else "Primera vez")
        ids.append(client.post("/api/v1/reservations", json=body, headers=auth).get_json()["id"])
    client.post(f"/api/v1/reservations/{ids[1]}/cancel", json={}, headers=auth)
    # A failed sync with its error and time, and a start in the repeated hour of the
    # October fall-back (02:30 happens twice in Madrid: this is the second, +01:00).
    begin_write()
    db.session.execute(
        update(Reservation)
        .where(Reservation.uuid == ids[2])
        .values(
            sync_status="failed",
            last_sync_error="403 forbidden",
            last_synced_at=datetime(2027, 3, 28, 0, 59, 59, tzinfo=UTC),
            start_at=datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
            end_at=datetime(2027, 10, 31, 2, 15, tzinfo=UTC),
            busy_until=datetime(2027, 10, 31, 2, 15, tzinfo=UTC),
            customer_email=None,
        )
    )
    db.session.commit()

    rows = db.session.scalars(select(Reservation).order_by(Reservation.id)).all()
    assert [reservation_json(r) for r in rows] == ReservationSchema(many=True).dump(rows)
    assert reservation_json(rows[2])["start"] == "2027-10-31T02:30:00+01:00"
    page = client.get("/api/v1/reservations?limit=5", headers=auth).get_json()
    assert page["items"] == ReservationSchema(many=True).dump(rows)
