"""Who may open every desk, customer and audit route (reception, stylist, ops, admin,
anonymous). Forbidden requests change nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from pelubot_web.extensions import db
from pelubot_web.models import AuditEntry, Customer, Reservation
from pelubot_web.services import accounts
from tests.web.conftest import PASSWORD, Salon, book, fresh, login, post

ROLES = ("reception", "stylist", "ops", "admin", "anonymous")
EMAILS = {
    "reception": "desk@salon.test",
    "stylist": "lucia@salon.test",
    "ops": "ops@salon.test",
    "admin": "admin@salon.test",
}
DESK_VIEW = {"reception", "stylist", "admin"}
STAFF = {"reception", "admin"}
ADMIN = {"admin"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {r} = a reservation uuid, {c} = a customer id, {s} = a stylist id
    allowed: set[str]
    ok: int = 200


ROUTES = [
    Route("GET", "/desk/", DESK_VIEW),
    Route("GET", "/desk/week", DESK_VIEW),
    Route("GET", "/desk/grid", DESK_VIEW),
    Route("GET", "/desk/new?stylist={s}&start={start}", STAFF),
    Route("POST", "/desk/new", STAFF, ok=400),  # no cell given: 400, nothing booked
    Route("GET", "/desk/customer-options?q=cli", STAFF),
    Route("GET", "/desk/reservations/{r}", STAFF),
    Route("GET", "/desk/reservations/{r}/move", STAFF),
    Route("POST", "/desk/reservations/{r}/move", STAFF, ok=422),
    Route("POST", "/desk/reservations/{r}/cancel", STAFF, ok=303),
    Route("POST", "/desk/reservations/{r}/status", STAFF, ok=303),
    Route("GET", "/customers/", STAFF),
    Route("GET", "/customers/{c}", STAFF),
    Route("POST", "/customers/{c}", STAFF, ok=422),
    Route("POST", "/customers/{c}/notes", STAFF, ok=303),
    Route("POST", "/customers/{c}/merge", ADMIN, ok=422),
    Route("POST", "/customers/{c}/export", ADMIN),
    Route("GET", "/customers/{c}/erase", ADMIN),
    Route("POST", "/customers/{c}/erase", ADMIN, ok=303),
    Route("GET", "/admin/audit", ADMIN),
]


def _check(client: FlaskClient, salon: Salon, route: Route, role: str, n: int) -> None:
    # Each route gets its own reservation (50 minutes apart: no overlap on PostgreSQL).
    fresh()
    reservation = book(salon, salon.lucia, n * 50 // 60, n * 50 % 60)
    path = route.path.format(
        r=reservation.uuid,
        c=reservation.customer_id,
        s=salon.lucia.id,
        start=f"{salon.day.isoformat()}T12:00:00%2B01:00",
    )
    response = post(client, path) if route.method == "POST" else client.get(path)
    where = f"{role} {route.method} {route.path}"
    if role in route.allowed:
        assert response.status_code == route.ok, where
        return
    if role == "anonymous":
        assert response.status_code in (302, 303), where
        assert "/login" in response.headers["Location"], where
    else:
        assert response.status_code == 403, where
    fresh()
    unchanged = db.session.get(Reservation, reservation.id)
    assert unchanged is not None, where
    assert unchanged.status == "confirmed", where
    customer = db.session.get(Customer, reservation.customer_id)
    assert customer is not None, where
    assert customer.erased_at is None, where
    assert db.session.query(AuditEntry).count() == 0, where


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client: FlaskClient, salon: Salon, role: str) -> None:
    """Every new route for one role (one login per role keeps the matrix fast)."""
    accounts.create_user(EMAILS["reception"], PASSWORD, "reception")
    if role != "anonymous":
        login(client, EMAILS[role])
    for n, route in enumerate(ROUTES):
        _check(client, salon, route, role, n)


def test_reception_lands_on_the_desk_and_sees_desk_and_customers_in_the_menu(
    client: FlaskClient, salon: Salon
) -> None:
    accounts.create_user(EMAILS["reception"], PASSWORD, "reception")
    response = login(client, EMAILS["reception"])
    assert response.headers["Location"].endswith("/desk/")
    html = client.get("/desk/").get_data(as_text=True)
    assert 'href="/customers/"' in html
    assert 'href="/admin/"' not in html
