"""The stylist portal: agenda, actions through htmx partials, ownership, time off."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient

from pelubot_web.extensions import db
from pelubot_web.models import CalendarSyncJob, Reservation, TimeOff
from pelubot_web.models.types import utcnow
from tests import factories
from tests.factories import stored
from tests.web.conftest import Salon, book, fresh, hx_get, hx_post, login, post

SLOT_RE = re.compile(r'name="slot" value="([^"]+)"')


def _reservation(reservation_id: int) -> Reservation:
    fresh()
    found = db.session.get(Reservation, reservation_id)
    assert found is not None
    return found


def _agenda(client: FlaskClient, salon: Salon, **args: str) -> str:
    query = {"date": salon.day.isoformat(), **args}
    response = client.get("/pro/", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_day_agenda_shows_own_reservations_with_sync_badge(
    client: FlaskClient, salon: Salon
) -> None:
    mine = book(salon, salon.lucia, 10, sync_status="synced")
    book(salon, salon.lucia, 12, sync_status="failed", last_sync_error="403 forbidden calendar")
    theirs = book(salon, salon.carmen, 11)
    login(client, "lucia@salon.test")
    html = _agenda(client, salon)
    assert mine.customer.name in html
    assert theirs.customer.name not in html
    assert "Corte mujer" in html
    assert "10:00–10:45" in html
    assert "Sincronizada" in html
    assert "Sincronización fallida" in html
    assert "403 forbidden calendar" in html
    assert "2 reservas" in html


def test_week_agenda_shows_seven_days(client: FlaskClient, salon: Salon) -> None:
    book(salon, salon.lucia, 10)
    login(client, "lucia@salon.test")
    html = _agenda(client, salon, view="week")
    assert html.count('class="agenda-day"') == 7
    assert "1 reserva" in html


def test_admin_switches_stylist_but_a_stylist_cannot(client: FlaskClient, salon: Salon) -> None:
    theirs = book(salon, salon.carmen, 11)
    login(client, "lucia@salon.test")
    assert theirs.customer.name not in _agenda(client, salon, stylist=str(salon.carmen.id))
    admin = client.application.test_client()
    login(admin, "admin@salon.test")
    html = _agenda(admin, salon, stylist=str(salon.carmen.id))
    assert theirs.customer.name in html
    assert "Carmen Ruiz" in html


def test_a_stylist_cannot_see_or_change_another_stylists_reservation(
    client: FlaskClient, salon: Salon
) -> None:
    theirs = book(salon, salon.carmen, 11)
    start = theirs.start_at
    login(client, "lucia@salon.test")
    base = f"/pro/reservations/{theirs.uuid}"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/reschedule").status_code == 404
    assert client.get(f"{base}/cancel").status_code == 404
    assert post(client, f"{base}/cancel").status_code == 404
    assert post(client, f"{base}/status", {"status": "no_show"}).status_code == 404
    slot = f"{salon.carmen.id}|{factories.local(salon.day, 16).isoformat()}"
    assert post(client, f"{base}/reschedule", {"slot": slot}).status_code == 404
    assert hx_post(client, f"{base}/cancel").status_code == 404
    after = _reservation(theirs.id)
    assert (after.status, after.start_at, after.version) == ("confirmed", start, 1)


def test_cancel_with_htmx_swaps_the_row_and_records_the_sync(
    client: FlaskClient, salon: Salon
) -> None:
    reservation = book(salon, salon.lucia, 10)
    login(client, "lucia@salon.test")
    response = hx_post(client, f"/pro/reservations/{reservation.uuid}/cancel")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<li class="appt is-cancelled" id="r-{reservation.uuid}"')
    assert "Cancelada" in html
    assert "<html" not in html
    assert json.loads(response.headers["HX-Trigger"])["toast"]["message"] == "Reserva cancelada."
    after = _reservation(reservation.id)
    assert after.status == "cancelled"
    assert after.version == 2
    job = db.session.query(CalendarSyncJob).filter_by(reservation_id=reservation.id).one()
    assert job.target_version == 2


def test_cancel_without_javascript_confirms_first(client: FlaskClient, salon: Salon) -> None:
    reservation = book(salon, salon.lucia, 10)
    login(client, "lucia@salon.test")
    page = client.get(f"/pro/reservations/{reservation.uuid}/cancel").get_data(as_text=True)
    assert "¿Cancelar la reserva?" in page
    assert _reservation(reservation.id).status == "confirmed"
    response = post(client, f"/pro/reservations/{reservation.uuid}/cancel")
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"/pro/?date={salon.day}")
    assert _reservation(reservation.id).status == "cancelled"


def test_reschedule_with_htmx_offers_slots_and_moves_the_reservation(
    client: FlaskClient, salon: Salon
) -> None:
    reservation = book(salon, salon.lucia, 10)
    book(salon, salon.lucia, 12)
    login(client, "lucia@salon.test")
    url = f"/pro/reservations/{reservation.uuid}/reschedule"
    form = hx_get(client, url, query_string={"day": salon.day.isoformat()})
    html = form.get_data(as_text=True)
    assert html.lstrip().startswith(f'<li class="appt" id="r-{reservation.uuid}"')
    slots = SLOT_RE.findall(html)
    noon = f"{salon.lucia.id}|{factories.local(salon.day, 12).isoformat()}"
    quarter_past = f"{salon.lucia.id}|{factories.local(salon.day, 10, 15).isoformat()}"
    assert noon not in slots  # taken by the other booking
    assert quarter_past in slots  # overlaps only itself
    target = f"{salon.lucia.id}|{factories.local(salon.day, 16).isoformat()}"
    response = hx_post(client, url, {"slot": target, "day": salon.day.isoformat()})
    assert response.status_code == 200
    trigger = json.loads(response.headers["HX-Trigger"])
    assert trigger["agendaChanged"] is True
    assert "16:00" in trigger["toast"]["message"]
    assert "16:00–16:45" in response.get_data(as_text=True)
    assert _reservation(reservation.id).start_at == factories.local(salon.day, 16)


def test_reschedule_into_a_slot_taken_meanwhile_shows_fresh_slots(
    client: FlaskClient, salon: Salon
) -> None:
    reservation = book(salon, salon.lucia, 10)
    login(client, "lucia@salon.test")
    target = f"{salon.lucia.id}|{factories.local(salon.day, 16).isoformat()}"
    book(salon, salon.lucia, 16)
    response = hx_post(
        client,
        f"/pro/reservations/{reservation.uuid}/reschedule",
        {"slot": target, "day": salon.day.isoformat()},
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "esa hora acaba de reservarse" in html
    assert target not in SLOT_RE.findall(html)
    assert _reservation(reservation.id).start_at == factories.local(salon.day, 10)


def test_mark_completed_and_no_show(client: FlaskClient, salon: Salon) -> None:
    past = factories.reservation(salon.lucia, salon.service, utcnow() - timedelta(hours=2))
    future = book(salon, salon.lucia, 10)
    db.session.commit()
    login(client, "lucia@salon.test")
    response = hx_post(client, f"/pro/reservations/{past.uuid}/status", {"status": "completed"})
    assert response.status_code == 200
    assert "Completada" in response.get_data(as_text=True)
    assert _reservation(past.id).status == "completed"
    response = hx_post(client, f"/pro/reservations/{future.uuid}/status", {"status": "no_show"})
    assert response.status_code == 409  # has not started yet
    assert (
        "ya no se puede cambiar" in json.loads(response.headers["HX-Trigger"])["toast"]["message"]
    )
    assert _reservation(future.id).status == "confirmed"
    response = hx_post(client, f"/pro/reservations/{future.uuid}/status", {"status": "cancelled"})
    assert response.status_code == 422


def test_create_a_reservation_at_the_desk(client: FlaskClient, salon: Salon) -> None:
    login(client, "lucia@salon.test")
    page = client.get(
        "/pro/reservations/new",
        query_string={"service": salon.long_service.id, "day": salon.day.isoformat()},
    ).get_data(as_text=True)
    slots = SLOT_RE.findall(page)
    assert slots[0] == f"{salon.lucia.id}|{factories.local(salon.day, 10).isoformat()}"
    fragment = hx_get(
        client,
        "/pro/reservations/new",
        query_string={"service": salon.long_service.id, "day": salon.day.isoformat()},
    ).get_data(as_text=True)
    assert "<html" not in fragment
    assert SLOT_RE.findall(fragment) == slots
    data = {
        "service": salon.long_service.id,
        "day": salon.day.isoformat(),
        "slot": slots[0],
        "name": "Marta Gil",
        "phone": "+34 611 222 333",
    }
    bad = post(client, "/pro/reservations/new", {**data, "phone": "abc"})
    assert bad.status_code == 422
    assert 'id="phone-error"' in bad.get_data(as_text=True)
    response = post(client, "/pro/reservations/new", data)
    assert response.status_code == 303
    fresh()
    created = db.session.query(Reservation).one()
    assert (created.source, created.service_id, created.stylist_id) == (
        "portal",
        salon.long_service.id,
        salon.lucia.id,
    )
    assert created.end_at - created.start_at == timedelta(minutes=90)


def test_a_stylist_cannot_book_a_service_they_do_not_offer(
    client: FlaskClient, salon: Salon
) -> None:
    login(client, "carmen@salon.test")
    slot = f"{salon.carmen.id}|{factories.local(salon.day, 10).isoformat()}"
    data = {
        "service": salon.long_service.id,  # colour: Carmen does not offer it
        "day": salon.day.isoformat(),
        "slot": slot,
        "name": "X",
        "phone": "+34611222333",
    }
    assert post(client, "/pro/reservations/new", data).status_code == 422
    fresh()
    assert db.session.query(Reservation).count() == 0


def test_time_off_is_managed_by_its_stylist_only(app: Flask, salon: Salon) -> None:
    lucia = app.test_client()
    login(lucia, "lucia@salon.test")
    start = f"{salon.day}T10:00"
    response = post(
        lucia, "/pro/time-off", {"start": start, "end": f"{salon.day}T14:00", "reason": "Médico"}
    )
    assert response.status_code == 303
    fresh()
    entry = db.session.query(TimeOff).one()
    assert entry.stylist_id == salon.lucia.id
    assert entry.start_at == factories.local(salon.day, 10)
    assert "Médico" in lucia.get("/pro/time-off").get_data(as_text=True)
    # It removes those hours from the booking page at once.
    html = lucia.get(
        f"/book/?service={salon.service.id}&stylist={salon.lucia.id}&day={salon.day}"
    ).get_data(as_text=True)
    assert f"{salon.day}T10:00" not in html
    assert f"{salon.day}T15:00" in html
    # Another stylist can neither see nor delete it.
    carmen = app.test_client()
    login(carmen, "carmen@salon.test")
    assert "Médico" not in carmen.get("/pro/time-off").get_data(as_text=True)
    post(carmen, f"/pro/time-off/{entry.id}/delete")
    fresh()
    assert db.session.query(TimeOff).count() == 1
    response = hx_post(lucia, f"/pro/time-off/{entry.id}/delete")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == ""
    fresh()
    assert db.session.query(TimeOff).count() == 0


def test_time_off_over_a_booking_is_refused_next_to_the_field(
    client: FlaskClient, salon: Salon
) -> None:
    book(salon, salon.lucia, 11)
    login(client, "lucia@salon.test")
    response = post(
        client, "/pro/time-off", {"start": f"{salon.day}T10:00", "end": f"{salon.day}T12:00"}
    )
    assert response.status_code == 409
    assert re.search(r'id="start-error">Hay reservas confirmadas', response.get_data(as_text=True))
    response = post(
        client, "/pro/time-off", {"start": f"{salon.day}T12:00", "end": f"{salon.day}T10:00"}
    )
    assert response.status_code == 422
    assert 'id="end-error"' in response.get_data(as_text=True)
    fresh()
    assert db.session.query(TimeOff).count() == 0


def test_agenda_refresh_is_a_fragment(client: FlaskClient, salon: Salon) -> None:
    book(salon, salon.lucia, 10)
    login(client, "lucia@salon.test")
    response = hx_get(client, "/pro/", query_string={"date": salon.day.isoformat()})
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert 'class="agenda-day"' in html
    assert "HX-Request" in response.headers["Vary"]


def test_a_stylist_user_without_a_stylist_is_refused(app: Flask, salon: Salon) -> None:
    salon.stylist_user.stylist_id = None
    db.session.commit()
    client = app.test_client()
    login(client, "lucia@salon.test")
    assert client.get("/pro/").status_code == 403


def test_a_new_reservation_in_a_slot_taken_meanwhile_says_so_at_the_slots(
    client: FlaskClient, salon: Salon
) -> None:
    login(client, "lucia@salon.test")
    slot = f"{salon.lucia.id}|{factories.local(salon.day, 10).isoformat()}"
    book(salon, salon.lucia, 10)  # booked by someone else after the page was shown
    data = {
        "service": salon.service.id,
        "day": salon.day.isoformat(),
        "slot": slot,
        "name": "Marta Gil",
        "phone": "+34 611 222 333",
    }
    response = post(client, "/pro/reservations/new", data)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert re.search(r'<p class="error" role="alert">[^<]*acaba de reservarse', html)
    assert 'value="Marta Gil"' in html  # what was typed is kept
    assert slot not in SLOT_RE.findall(html)
    others = f"{salon.carmen.id}|{factories.local(salon.day, 11).isoformat()}"
    refused = post(client, "/pro/reservations/new", {**data, "slot": others})
    assert refused.status_code == 422
    assert "Elige una de las horas ofrecidas." in refused.get_data(as_text=True)
    fresh()
    assert db.session.query(Reservation).count() == 1


def test_cancelling_a_closed_reservation_is_refused_in_the_row(
    client: FlaskClient, salon: Salon
) -> None:
    r = book(salon, salon.lucia, 10, status="completed")
    login(client, "lucia@salon.test")
    response = hx_post(client, f"/pro/reservations/{r.uuid}/cancel")
    assert response.status_code == 409
    assert f'id="r-{r.uuid}"' in response.get_data(as_text=True)
    toast = json.loads(response.headers["HX-Trigger"])["toast"]["message"]
    assert toast == "Esta reserva ya no se puede cambiar."
    fresh()
    assert stored(Reservation, r.id).status == "completed"
