"""The public booking flow (with and without JavaScript) and manage-my-booking links."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from pelubot_web import create_app
from pelubot_web.extensions import db
from pelubot_web.models import Reservation
from pelubot_web.services import booking
from tests import factories
from tests.conftest import make_config
from tests.factories import stored
from tests.web.conftest import Salon, book, csrf_token, fresh, hx_get, post

SLOT_RE = re.compile(r'name="slot" value="([^"]+)"')


def _slots(html: str) -> list[str]:
    return SLOT_RE.findall(html)


def _details(salon: Salon, slot: str, **extra: str) -> dict[str, str]:
    data = {
        "service": str(salon.service.id),
        "stylist": str(salon.lucia.id),
        "day": salon.day.isoformat(),
        "slot": slot,
        "name": "Ana García",
        "phone": "612 345 678",
        "email": "ana@example.com",
        "notes": "",
        "website": "",
    }
    data.update(extra)
    return data


def _all_reservations() -> list[Reservation]:
    fresh()
    return list(db.session.query(Reservation).all())


def test_booking_works_step_by_step_with_javascript_off(client: FlaskClient, salon: Salon) -> None:
    # 1. services
    page = client.get("/book/").get_data(as_text=True)
    assert "Corte mujer" in page
    assert "32,00" in page
    assert 'name="stylist"' not in page
    # 2. stylists for that service (Carmen does not do colour)
    page = client.get(f"/book/?service={salon.long_service.id}").get_data(as_text=True)
    assert "Lucía Fernández" in page
    assert "Carmen Ruiz" not in page
    assert 'value="any"' in page
    # 3. day and free slots
    page = client.get(
        f"/book/?service={salon.service.id}&stylist={salon.lucia.id}&day={salon.day}"
    ).get_data(as_text=True)
    slots = _slots(page)
    assert slots
    assert slots[0].startswith(f"{salon.lucia.id}|{salon.day}T10:00:00+")
    assert 'name="name"' not in page  # details come after a time is chosen
    # 4. details form for the chosen slot
    page = client.get(
        "/book/",
        query_string={
            "service": salon.service.id,
            "stylist": salon.lucia.id,
            "day": salon.day.isoformat(),
            "slot": slots[0],
        },
    ).get_data(as_text=True)
    assert 'name="name"' in page
    assert 'name="website"' in page
    # 5. confirm: a plain POST and a 303 to the manage page
    response = post(client, "/book/", _details(salon, slots[0]))
    assert response.status_code == 303, response.get_data(as_text=True)
    manage_url = response.headers["Location"]
    assert re.fullmatch(r"/book/manage/[A-Za-z0-9_-]{40,}", manage_url)
    (reservation,) = _all_reservations()
    assert reservation.source == "booking_page"
    assert reservation.stylist_id == salon.lucia.id
    assert reservation.customer.phone == "+34612345678"
    assert reservation.sync_status in ("pending", "not_required")
    token = manage_url.rsplit("/", 1)[1]
    assert reservation.manage_token_hash == booking.hash_manage_token(token)
    assert token not in (reservation.manage_token_hash or "")
    manage_page = client.get(manage_url)
    assert manage_page.headers["Cache-Control"] == "no-store"
    assert manage_page.headers["Referrer-Policy"] == "no-referrer"
    html = manage_page.get_data(as_text=True)
    assert "Tu reserva está confirmada" in html
    assert "Corte mujer" in html
    assert "10:00" in html
    assert "Lucía Fernández" in html
    assert "http://127.0.0.1:5000" + manage_url in html


def test_anyone_books_the_first_free_stylist(client: FlaskClient, salon: Salon) -> None:
    book(salon, salon.lucia, 10)
    page = client.get(f"/book/?service={salon.service.id}&stylist=any&day={salon.day}").get_data(
        as_text=True
    )
    slots = _slots(page)
    assert slots[0] == f"{salon.carmen.id}|{factories.local(salon.day, 10).isoformat()}"
    assert len({s.split("|")[1] for s in slots}) == len(slots)  # one entry per time
    response = post(client, "/book/", _details(salon, slots[0], stylist="any"))
    assert response.status_code == 303
    assert {r.stylist_id for r in _all_reservations()} == {salon.lucia.id, salon.carmen.id}


def test_htmx_gets_only_the_flow_panel(client: FlaskClient, salon: Salon) -> None:
    response = hx_get(client, f"/book/?service={salon.service.id}")
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert 'name="stylist"' in html
    assert "HX-Request" in response.headers["Vary"]
    full = client.get(f"/book/?service={salon.service.id}")
    assert "<html" in full.get_data(as_text=True)
    assert "HX-Request" in full.headers["Vary"]


def test_a_slot_taken_meanwhile_gives_a_friendly_message_and_fresh_slots(
    client: FlaskClient, salon: Salon
) -> None:
    url = f"/book/?service={salon.service.id}&stylist={salon.lucia.id}&day={salon.day}"
    slot = _slots(client.get(url).get_data(as_text=True))[0]
    book(salon, salon.lucia, 10)  # someone else takes 10:00 meanwhile
    response = post(client, "/book/", _details(salon, slot))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "esa hora acaba de reservarse" in html
    fresh = _slots(html)
    assert fresh
    assert slot not in fresh
    assert 'value="Ana García"' in html  # what the customer typed is kept
    assert len(_all_reservations()) == 1


def test_a_stale_slot_in_the_url_asks_again(client: FlaskClient, salon: Salon) -> None:
    slot = f"{salon.lucia.id}|{factories.local(salon.day, 10).isoformat()}"
    book(salon, salon.lucia, 10)
    html = client.get(
        "/book/",
        query_string={
            "service": salon.service.id,
            "stylist": salon.lucia.id,
            "day": salon.day.isoformat(),
            "slot": slot,
        },
    ).get_data(as_text=True)
    assert "ya no está disponible" in html
    assert 'name="name"' not in html


def test_honeypot_filled_books_nothing(client: FlaskClient, salon: Salon) -> None:
    slot = f"{salon.lucia.id}|{factories.local(salon.day, 11).isoformat()}"
    response = post(client, "/book/", _details(salon, slot, website="http://spam.example"))
    assert response.status_code == 422
    assert _all_reservations() == []


def test_invalid_phone_is_shown_next_to_the_field(client: FlaskClient, salon: Salon) -> None:
    slot = f"{salon.lucia.id}|{factories.local(salon.day, 11).isoformat()}"
    response = post(client, "/book/", _details(salon, slot, phone="12"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="phone-error">Introduce un teléfono válido', html)
    assert 'aria-invalid="true"' in html
    assert _all_reservations() == []


def test_missing_name_is_shown_next_to_the_field(client: FlaskClient, salon: Salon) -> None:
    slot = f"{salon.lucia.id}|{factories.local(salon.day, 11).isoformat()}"
    response = post(client, "/book/", _details(salon, slot, name=""))
    assert response.status_code == 422
    assert 'id="name-error"' in response.get_data(as_text=True)


def test_booking_submissions_are_rate_limited(migrated_database_url: str, salon: Salon) -> None:
    app = create_app(make_config(migrated_database_url, booking_rate_limit="2/minute"))
    client = app.test_client()
    token = csrf_token(client)
    data = {"csrf_token": token, "name": ""}
    statuses = [client.post("/book/", data=data).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]


def _book_via_page(client: FlaskClient, salon: Salon, hour: int) -> str:
    slot = f"{salon.lucia.id}|{factories.local(salon.day, hour).isoformat()}"
    response = post(client, "/book/", _details(salon, slot, phone=f"61234{hour:04d}"))
    assert response.status_code == 303, response.get_data(as_text=True)
    return str(response.headers["Location"]).rsplit("/", 1)[1]


def test_manage_links_cannot_be_guessed(client: FlaskClient, salon: Salon) -> None:
    token = _book_via_page(client, salon, 11)
    assert client.get(f"/book/manage/{token}").status_code == 200
    for guess in (token[:-1], token[:-1] + ("A" if token[-1] != "A" else "B"), "x", "0" * 43):
        assert client.get(f"/book/manage/{guess}").status_code == 404
    reservation = _all_reservations()[0]
    assert client.get(f"/book/manage/{reservation.uuid}").status_code == 404
    assert client.get(f"/book/manage/{reservation.manage_token_hash}").status_code == 404


def test_a_manage_link_only_opens_and_changes_its_own_booking(
    client: FlaskClient, salon: Salon
) -> None:
    token_a = _book_via_page(client, salon, 11)
    token_b = _book_via_page(client, salon, 12)
    a, b = sorted(_all_reservations(), key=lambda r: r.start_at)
    page_a = client.get(f"/book/manage/{token_a}").get_data(as_text=True)
    assert "11:00" in page_a
    assert "12:00" not in page_a
    # Cancelling through A's link, even naming B, cancels A only.
    response = post(client, f"/book/manage/{token_a}/cancel", {"reservation": b.uuid})
    assert response.status_code == 303
    fresh()
    assert stored(Reservation, a.id).status == "cancelled"
    assert stored(Reservation, b.id).status == "confirmed"
    # A cancelled booking cannot be moved or cancelled again through its link.
    slot = f"{salon.lucia.id}|{factories.local(salon.day, 16).isoformat()}"
    response = post(client, f"/book/manage/{token_a}/reschedule", {"slot": slot})
    assert response.status_code == 303
    fresh()
    assert stored(Reservation, a.id).start_at == factories.local(salon.day, 11)
    assert "Cambiar la hora" in client.get(f"/book/manage/{token_b}").get_data(as_text=True)


def test_customer_reschedules_through_the_manage_link(client: FlaskClient, salon: Salon) -> None:
    token = _book_via_page(client, salon, 11)
    page = client.get(f"/book/manage/{token}/reschedule?day={salon.day}").get_data(as_text=True)
    slots = _slots(page)
    # Its own time is offered again (moving 15 minutes later overlaps itself).
    assert f"{salon.lucia.id}|{factories.local(salon.day, 11, 15).isoformat()}" in slots
    new_slot = f"{salon.lucia.id}|{factories.local(salon.day, 11, 15).isoformat()}"
    response = post(
        client, f"/book/manage/{token}/reschedule", {"slot": new_slot, "day": str(salon.day)}
    )
    assert response.status_code == 303
    (reservation,) = _all_reservations()
    assert reservation.start_at == factories.local(salon.day, 11, 15)
    assert reservation.version == 2
    # Another stylist's slot is refused: the link moves the time, not the stylist.
    other = f"{salon.carmen.id}|{factories.local(salon.day, 17).isoformat()}"
    response = post(
        client, f"/book/manage/{token}/reschedule", {"slot": other, "day": str(salon.day)}
    )
    assert response.status_code == 422
    assert _all_reservations()[0].stylist_id == salon.lucia.id


def test_customer_cancels_after_confirming(app: Flask, client: FlaskClient, salon: Salon) -> None:
    token = _book_via_page(client, salon, 11)
    page = client.get(f"/book/manage/{token}/cancel").get_data(as_text=True)
    assert "¿Cancelar la reserva?" in page
    response = post(client, f"/book/manage/{token}/cancel")
    assert response.status_code == 303
    (reservation,) = _all_reservations()
    assert reservation.status == "cancelled"
    html = client.get(f"/book/manage/{token}").get_data(as_text=True)
    assert "Cancelada" in html
    assert "Cambiar la hora" not in html


def test_a_manage_link_move_into_a_slot_taken_meanwhile_changes_nothing(
    client: FlaskClient, salon: Salon
) -> None:
    token = _book_via_page(client, salon, 11)
    target = f"{salon.lucia.id}|{factories.local(salon.day, 13).isoformat()}"
    fresh()
    book(salon, salon.lucia, 13)  # taken after the picker was shown
    url = f"/book/manage/{token}/reschedule"
    response = post(client, url, {"slot": target, "day": str(salon.day)})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "acaba de reservarse" in html
    assert target not in _slots(html)
    assert response.headers["Cache-Control"] == "no-store"
    missing = post(client, url, {"slot": "", "day": str(salon.day)})
    assert missing.status_code == 422
    assert "Elige una de las horas ofrecidas." in missing.get_data(as_text=True)
    fresh()
    mine = next(r for r in _all_reservations() if r.source == "booking_page")
    assert mine.start_at == factories.local(salon.day, 11)


def test_a_malformed_slot_books_nothing_and_asks_for_a_time(
    client: FlaskClient, salon: Salon
) -> None:
    response = post(client, "/book/", _details(salon, "7|not-a-time"))
    assert response.status_code == 422
    assert "Elige una de las horas ofrecidas." in response.get_data(as_text=True)
    assert _all_reservations() == []
