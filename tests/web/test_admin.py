"""Admin: catalog, stylists with offerings, weekly hours, closures and users."""

from __future__ import annotations

import re
import uuid
from datetime import time

from flask.testing import FlaskClient

from pelubot_web.extensions import db
from pelubot_web.models import (
    SalonClosure,
    Service,
    Stylist,
    StylistService,
    User,
    WorkingHours,
)
from pelubot_web.services.accounts import create_api_key, principal_for_key
from tests.web.conftest import PASSWORD, Salon, fresh, hx_post, login, post

SERVICE = {"name": "Recogido", "slug": "recogido", "duration_min": 60, "price": "45.50"}


def _api_services(client: FlaskClient) -> list[dict[str, object]]:
    fresh()  # a stale SQLite read snapshot cannot be upgraded to a write
    key = create_api_key(f"admin-test-{uuid.uuid4().hex[:8]}", ["booking"]).secret
    response = client.get("/api/v1/services", headers={"X-API-Key": key})
    assert response.status_code == 200
    return list(response.get_json()["items"])


def test_a_new_service_and_an_edit_are_visible_in_the_api_at_once(
    client: FlaskClient, salon: Salon
) -> None:
    login(client, "admin@salon.test")
    before = _api_services(client)  # fills the API's catalog cache
    assert "recogido" not in {s["slug"] for s in before}
    response = post(client, "/admin/services/new", {**SERVICE, "currency": "EUR", "active": "y"})
    assert response.status_code == 303
    fresh()
    created = db.session.query(Service).filter_by(slug="recogido").one()
    assert (created.duration_min, created.price_cents) == (60, 4550)
    edit = {
        "name": "Corte y peinado",
        "slug": "corte",
        "duration_min": 50,
        "price": "35",
        "active": "y",
    }
    response = post(client, f"/admin/services/{salon.service.id}", {**edit, "currency": "EUR"})
    assert response.status_code == 303
    after = {s["slug"]: s for s in _api_services(client)}
    assert after["recogido"]["price_cents"] == 4550
    assert after["corte"]["name"] == "Corte y peinado"
    assert after["corte"]["duration_min"] == 50
    assert after["corte"]["price_cents"] == 3500
    # Hidden services leave the API (and the booking page) at once.
    response = hx_post(client, f"/admin/services/{created.id}/toggle")
    assert response.status_code == 200
    assert "Oculto" in response.get_data(as_text=True)
    assert "recogido" not in {s["slug"] for s in _api_services(client)}
    assert "Recogido" not in client.get("/book/").get_data(as_text=True)


def test_service_validation_errors_appear_next_to_the_fields(
    client: FlaskClient, salon: Salon
) -> None:
    login(client, "admin@salon.test")
    response = post(
        client,
        "/admin/services/new",
        {"name": "", "slug": "Mal Slug", "duration_min": 0, "price": "-1", "currency": "eu"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for field in ("name", "slug", "duration_min", "price", "currency"):
        assert f'id="{field}-error"' in html, field
    taken = post(client, "/admin/services/new", {**SERVICE, "slug": "corte", "currency": "EUR"})
    assert taken.status_code == 409
    assert re.search(
        r'id="slug-error">Este nombre corto ya está en uso', taken.get_data(as_text=True)
    )
    fresh()
    assert db.session.query(Service).count() == 2


def test_a_stylist_slug_is_unique_but_keeping_your_own_is_fine(
    client: FlaskClient, salon: Salon
) -> None:
    login(client, "admin@salon.test")
    carmen = {"name": "Carmen Ruiz", "calendar_id": "", "active": "y"}
    taken = post(client, f"/admin/stylists/{salon.carmen.id}", {**carmen, "slug": "lucia"})
    assert taken.status_code == 409
    assert 'id="slug-error"' in taken.get_data(as_text=True)
    kept = post(client, f"/admin/stylists/{salon.carmen.id}", {**carmen, "slug": "carmen"})
    assert kept.status_code == 303
    fresh()
    assert {s.slug for s in db.session.query(Stylist)} == {"lucia", "carmen"}


def test_a_stylist_can_be_given_a_workspace_account_for_delegation(
    client: FlaskClient, salon: Salon
) -> None:
    login(client, "admin@salon.test")
    lucia = {"name": "Lucía Fernández", "slug": "lucia", "calendar_id": "lucia@cal.test"}
    url = f"/admin/stylists/{salon.lucia.id}"

    bad = post(client, url, {**lucia, "google_account": "not an address", "active": "y"})
    good = post(client, url, {**lucia, "google_account": "lucia@salon.example", "active": "y"})

    assert bad.status_code == 422
    assert good.status_code == 303
    fresh()
    stylist = db.session.get(Stylist, salon.lucia.id)
    assert stylist is not None
    assert stylist.google_account == "lucia@salon.example"


def test_stylist_with_calendar_and_offerings_with_overrides(
    client: FlaskClient, salon: Salon
) -> None:
    login(client, "admin@salon.test")
    response = post(
        client,
        "/admin/stylists/new",
        {
            "name": "Javier Moreno",
            "slug": "javier",
            "calendar_id": "javier@cal.test",
            "active": "y",
        },
    )
    assert response.status_code == 303
    stylist_id = int(response.headers["Location"].split("/")[3])
    url = f"/admin/stylists/{stylist_id}/services"
    bad = post(
        client, url, {f"offer-{salon.service.id}": "on", f"duration-{salon.service.id}": "2"}
    )
    assert bad.status_code == 422
    fresh()
    assert db.session.query(StylistService).filter_by(stylist_id=stylist_id).count() == 0
    ok = post(
        client,
        url,
        {
            f"offer-{salon.service.id}": "on",
            f"duration-{salon.service.id}": "30",
            f"price-{salon.service.id}": "20,00",
            f"offer-{salon.long_service.id}": "on",
        },
    )
    assert ok.status_code == 303
    fresh()
    offers = {
        o.service_id: o for o in db.session.query(StylistService).filter_by(stylist_id=stylist_id)
    }
    assert (offers[salon.service.id].duration_min, offers[salon.service.id].price_cents) == (
        30,
        2000,
    )
    assert offers[salon.long_service.id].duration_min is None
    key = create_api_key("admin-test", ["booking"]).secret
    pros = client.get("/api/v1/professionals", headers={"X-API-Key": key}).get_json()["items"]
    javier = next(p for p in pros if p["slug"] == "javier")
    assert set(javier["service_ids"]) == {salon.service.id, salon.long_service.id}


def test_weekly_hours_with_a_break_and_no_overlaps(client: FlaskClient, salon: Salon) -> None:
    login(client, "admin@salon.test")
    url = f"/admin/stylists/{salon.carmen.id}/hours"
    fresh()
    db.session.query(WorkingHours).filter_by(stylist_id=salon.carmen.id, weekday=6).delete()
    db.session.commit()
    assert (
        post(client, url, {"weekday": 6, "start_time": "10:00", "end_time": "14:00"}).status_code
        == 303
    )
    assert (
        post(client, url, {"weekday": 6, "start_time": "15:00", "end_time": "19:00"}).status_code
        == 303
    )
    overlap = post(client, url, {"weekday": 6, "start_time": "13:00", "end_time": "16:00"})
    assert overlap.status_code == 409
    assert 'id="start_time-error"' in overlap.get_data(as_text=True)
    backwards = post(client, url, {"weekday": 6, "start_time": "18:00", "end_time": "17:00"})
    assert backwards.status_code == 422
    fresh()
    sunday = (
        db.session.query(WorkingHours)
        .filter_by(stylist_id=salon.carmen.id, weekday=6)
        .order_by(WorkingHours.start_time)
        .all()
    )
    assert [(h.start_time, h.end_time) for h in sunday] == [
        (time(10), time(14)),
        (time(15), time(19)),
    ]
    response = hx_post(client, f"{url}/{sunday[0].id}/delete")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == ""
    fresh()
    assert (
        db.session.query(WorkingHours).filter_by(stylist_id=salon.carmen.id, weekday=6).count() == 1
    )


def test_salon_closures_close_the_booking_page(client: FlaskClient, salon: Salon) -> None:
    login(client, "admin@salon.test")
    day = salon.day.isoformat()
    assert (
        post(
            client, "/admin/closures", {"start_date": day, "end_date": day, "reason": "Fiesta"}
        ).status_code
        == 303
    )
    html = client.get(
        f"/book/?service={salon.service.id}&stylist={salon.lucia.id}&day={day}"
    ).get_data(as_text=True)
    assert 'name="slot"' not in html
    assert "No hay horas libres" in html
    bad = post(client, "/admin/closures", {"start_date": day, "end_date": "2000-01-01"})
    assert bad.status_code == 422
    fresh()
    closure = db.session.query(SalonClosure).one()
    assert post(client, f"/admin/closures/{closure.id}/delete").status_code == 303
    fresh()
    assert db.session.query(SalonClosure).count() == 0


def test_users_are_created_and_edited_with_validation(client: FlaskClient, salon: Salon) -> None:
    login(client, "admin@salon.test")
    missing_stylist = post(
        client,
        "/admin/users/new",
        {"email": "new@salon.test", "password": PASSWORD, "role": "stylist", "stylist_id": 0},
    )
    assert missing_stylist.status_code == 422
    assert 'id="stylist_id-error"' in missing_stylist.get_data(as_text=True)
    duplicate = post(
        client,
        "/admin/users/new",
        {"email": "ops@salon.test", "password": PASSWORD, "role": "ops", "stylist_id": 0},
    )
    assert duplicate.status_code == 409
    created = post(
        client,
        "/admin/users/new",
        {
            "email": "new@salon.test",
            "password": PASSWORD,
            "role": "stylist",
            "stylist_id": salon.carmen.id,
        },
    )
    assert created.status_code == 303
    fresh()
    user = db.session.query(User).filter_by(email="new@salon.test").one()
    assert user.stylist_id == salon.carmen.id
    assert user.password_hash != PASSWORD
    response = post(
        client, f"/admin/users/{user.id}", {"role": "ops", "stylist_id": 0, "active": ""}
    )
    assert response.status_code == 303
    fresh()
    edited = db.session.get(User, user.id)
    assert edited is not None
    assert (edited.role, edited.active) == ("ops", False)
    # An admin cannot lock themselves out.
    self_edit = post(
        client, f"/admin/users/{salon.admin.id}", {"role": "ops", "stylist_id": 0, "active": "y"}
    )
    assert self_edit.status_code == 409
    fresh()
    admin = db.session.get(User, salon.admin.id)
    assert admin is not None
    assert admin.role == "admin"


def test_admins_list_api_keys_and_revoke_one(client: FlaskClient, salon: Salon) -> None:
    created = create_api_key("chatbot", ["booking"])
    key_id = created.api_key.id
    login(client, "lucia@salon.test")
    assert client.get("/admin/api-keys").status_code == 403
    post(client, "/logout")
    login(client, "admin@salon.test")
    page = client.get("/admin/api-keys").get_data(as_text=True)
    assert "chatbot" in page
    assert created.api_key.prefix in page
    assert created.secret not in page
    assert post(client, f"/admin/api-keys/{key_id}/revoke").status_code == 303
    fresh()
    assert principal_for_key(created.secret, bootstrap_key=None) is None
    assert post(client, "/admin/api-keys/99999999999999999999/revoke").status_code == 404
    assert post(client, "/admin/api-keys/12345/revoke").status_code == 404
