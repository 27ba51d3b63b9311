"""Login, logout, sessions, roles and CSRF for the staff web app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from pelubot_web import create_app
from pelubot_web.extensions import db
from pelubot_web.models import Service
from pelubot_web.services import user_admin
from tests.conftest import make_config
from tests.factories import stored
from tests.web.conftest import (
    META_CSRF,
    PASSWORD,
    Salon,
    csrf_token,
    fresh,
    hx_get,
    hx_post,
    login,
    post,
)

# Every staff page, with a role allowed to open it (GET, no parameters needed).
STAFF_PAGES = {
    "/pro/": "stylist",
    "/pro/time-off": "stylist",
    "/pro/reservations/new": "stylist",
    "/admin/": "admin",
    "/admin/services": "admin",
    "/admin/services/new": "admin",
    "/admin/stylists": "admin",
    "/admin/stylists/new": "admin",
    "/admin/closures": "admin",
    "/admin/rules": "admin",
    "/admin/users": "admin",
    "/admin/users/new": "admin",
    "/admin/calendar-jobs/": "ops",
    "/admin/calendar-jobs/retry-failed": "ops",
}


def _protected_rules(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, method) of every view of the staff blueprints."""
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in ("portal", "admin", "ops"):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                rules.append((rule.rule, method))
    return rules


def _concrete(rule: str) -> str:
    return (
        rule.replace("<int:service_id>", "1")
        .replace("<int:stylist_id>", "1")
        .replace("<int:hours_id>", "1")
        .replace("<int:closure_id>", "1")
        .replace("<int:user_id>", "1")
        .replace("<int:job_id>", "1")
        .replace("<int:time_off_id>", "1")
        .replace("<reservation_uuid>", "00000000-0000-0000-0000-000000000000")
        .replace("<int:endpoint_id>", "1")
        .replace("<int:notification_id>", "1")
        .replace("<action>", "remove")
    )


def test_anonymous_users_are_sent_to_login_from_every_staff_view(
    app: Flask, client: FlaskClient, salon: Salon
) -> None:
    rules = _protected_rules(app)
    assert len(rules) > 30
    token = csrf_token(client)
    for rule, method in rules:
        url = _concrete(rule)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code in (302, 303), (method, url, response.status_code)
        assert response.headers["Location"].startswith("/login?next="), (method, url)


def test_htmx_requests_of_anonymous_users_navigate_to_login(client: FlaskClient) -> None:
    response = hx_get(client, "/admin/calendar-jobs/")
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def test_every_staff_page_opens_for_its_role(app: Flask, salon: Salon) -> None:
    emails = {"stylist": "lucia@salon.test", "admin": "admin@salon.test", "ops": "ops@salon.test"}
    clients = {role: app.test_client() for role in emails}
    for role, client in clients.items():
        login(client, emails[role])
    for url, role in STAFF_PAGES.items():
        response = clients[role].get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert "<h1" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role_email", "url", "status"),
    [
        ("ops@salon.test", "/admin/services", 403),
        ("ops@salon.test", "/admin/users", 403),
        ("ops@salon.test", "/pro/", 403),
        ("ops@salon.test", "/admin/calendar-jobs/", 200),
        ("lucia@salon.test", "/admin/", 403),
        ("lucia@salon.test", "/admin/stylists/new", 403),
        ("lucia@salon.test", "/admin/calendar-jobs/", 403),
        ("admin@salon.test", "/admin/calendar-jobs/", 200),
        ("admin@salon.test", "/pro/", 200),
    ],
)
def test_roles_decide_which_areas_open(
    client: FlaskClient, salon: Salon, role_email: str, url: str, status: int
) -> None:
    login(client, role_email)
    response = client.get(url)
    assert response.status_code == status
    if status == 403:
        assert "<main" in response.get_data(as_text=True)  # the styled error page


def test_ops_cannot_change_the_catalog(client: FlaskClient, salon: Salon) -> None:
    login(client, "ops@salon.test")
    response = post(
        client,
        "/admin/services/new",
        {"name": "Hack", "slug": "hack", "duration_min": 30, "price": "1", "currency": "EUR"},
    )
    assert response.status_code == 403
    response = post(client, f"/admin/services/{salon.service.id}/toggle")
    assert response.status_code == 403
    fresh()
    assert stored(Service, salon.service.id).active is True
    assert db.session.query(Service).filter_by(slug="hack").count() == 0


def test_login_lands_each_role_on_its_area(app: Flask, salon: Salon) -> None:
    expected = {
        "lucia@salon.test": "/pro/",
        "admin@salon.test": "/admin/",
        "ops@salon.test": "/admin/calendar-jobs/",
    }
    for email, home in expected.items():
        response = login(app.test_client(), email)
        assert response.headers["Location"] == home


def test_login_follows_a_local_next_but_never_an_external_one(
    client: FlaskClient, salon: Salon
) -> None:
    token = csrf_token(client)
    data = {"csrf_token": token, "email": "lucia@salon.test", "password": PASSWORD}
    response = client.post("/login?next=/pro/time-off", data=data)
    assert response.headers["Location"] == "/pro/time-off"
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    data["csrf_token"] = csrf_token(client)
    response = client.post("/login?next=//evil.example/x", data=data)
    assert response.headers["Location"] == "/pro/"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("lucia@salon.test", "wrong password!"),
        ("nobody@salon.test", PASSWORD),
        ("disabled@salon.test", PASSWORD),
    ],
)
def test_failed_logins_get_one_generic_message(
    client: FlaskClient, salon: Salon, email: str, password: str
) -> None:
    from pelubot_web.services import accounts

    disabled = accounts.create_user("disabled@salon.test", PASSWORD, "ops")
    user_admin.update_user(disabled.id, role="ops", stylist_id=None, active=False)
    response = post(client, "/login", {"email": email, "password": password})
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert "Email o contraseña incorrectos." in body
    assert client.get("/pro/").status_code == 303


def test_login_starts_a_fresh_session(client: FlaskClient, salon: Salon) -> None:
    with client.session_transaction() as session:
        session["planted_before_login"] = "attacker value"
        session["lang"] = "en"
    token_before = csrf_token(client)
    login(client, "lucia@salon.test")
    with client.session_transaction() as session:
        assert "planted_before_login" not in session
        assert session["lang"] == "en"  # the language choice survives
        assert session["_user_id"].startswith(f"{salon.stylist_user.session_token}.")
    assert csrf_token(client) != token_before


def test_remember_me_lasts_at_most_thirty_days(client: FlaskClient, salon: Salon) -> None:
    response = post(
        client,
        "/login",
        {"email": "lucia@salon.test", "password": PASSWORD, "remember": "y"},
    )
    cookies = [SimpleCookie(h) for h in response.headers.getlist("Set-Cookie")]
    remember = next(c["remember_token"] for c in cookies if "remember_token" in c)
    assert remember["httponly"]
    assert remember["samesite"] == "Lax"
    expires = datetime.strptime(remember["expires"], "%a, %d %b %Y %H:%M:%S GMT").replace(
        tzinfo=UTC
    )
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30, minutes=1)


def test_session_cookie_flags(client: FlaskClient, salon: Salon) -> None:
    response = login(client, "lucia@salon.test")
    cookie = next(
        SimpleCookie(h)["session"]
        for h in response.headers.getlist("Set-Cookie")
        if h.startswith("session=")
    )
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # test env: plain http


def test_cookies_are_secure_in_production(migrated_database_url: str) -> None:
    app = create_app(
        make_config(
            migrated_database_url,
            env="prod",
            api_key="prod-api-key-0123456789-abcdefghijkl",
            secret_key="prod-secret-key-0123456789-abcdefghij",
            gcal_backend="disabled",
        )
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SECRET_KEY"] == "prod-secret-key-0123456789-abcdefghij"


def test_login_attempts_are_rate_limited(migrated_database_url: str, salon: Salon) -> None:
    app = create_app(make_config(migrated_database_url, login_rate_limit="3/minute"))
    client = app.test_client()
    token = csrf_token(client)
    data = {"csrf_token": token, "email": "lucia@salon.test", "password": "wrong password!"}
    statuses = [client.post("/login", data=data).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    limited = client.post("/login", data={**data, "password": PASSWORD})
    assert limited.status_code == 429  # even the right password waits
    assert "Demasiados intentos" in limited.get_data(as_text=True)


def test_logout_takes_a_post_with_csrf(client: FlaskClient, salon: Salon) -> None:
    login(client, "lucia@salon.test")
    assert client.get("/logout").status_code == 200  # asks first
    assert client.get("/pro/").status_code == 200
    assert client.post("/logout").status_code == 400  # no token
    response = post(client, "/logout")
    assert response.status_code == 303
    assert client.get("/pro/").status_code == 303


def test_a_new_password_ends_existing_sessions(app: Flask, salon: Salon) -> None:
    client = app.test_client()
    login(client, "lucia@salon.test")
    assert client.get("/pro/").status_code == 200
    user_admin.update_user(
        salon.stylist_user.id,
        role="stylist",
        stylist_id=salon.lucia.id,
        active=True,
        new_password="another long password",
    )
    assert client.get("/pro/").status_code == 303


def test_forms_without_csrf_token_are_rejected(client: FlaskClient, salon: Salon) -> None:
    login(client, "admin@salon.test")
    data = {"name": "Nuevo", "slug": "nuevo", "duration_min": 30, "price": "10", "currency": "EUR"}
    response = client.post("/admin/services/new", data=data)
    assert response.status_code == 400
    assert "caducado" in response.get_data(as_text=True)
    response = client.post("/login", data={"email": "a@b.es", "password": "x" * 12})
    assert response.status_code == 400


def test_htmx_requests_send_csrf_in_a_header(client: FlaskClient, salon: Salon) -> None:
    login(client, "admin@salon.test")
    url = f"/admin/services/{salon.service.id}/toggle"
    missing = client.post(url, headers={"HX-Request": "true"})
    assert missing.status_code == 400
    response = hx_post(client, url)
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip().startswith("<tr")


def test_pages_carry_the_csrf_token_for_htmx(client: FlaskClient) -> None:
    body = client.get("/book/").get_data(as_text=True)
    # The signed token embeds a timestamp, so compare within one page, not across two.
    match = META_CSRF.search(body)
    assert match, "the page carries the CSRF meta tag"
    token = match.group(1)
    assert "hx-headers='{&#34;X-CSRFToken&#34;: &#34;" in body or '"X-CSRFToken"' in body
    assert body.count(token) >= 2, "the same token is sent as the htmx header"


def test_account_page_changes_the_password_and_logs_out_other_devices(
    app: Flask, client: FlaskClient, salon: Salon
) -> None:
    other_device = app.test_client()
    login(other_device, "lucia@salon.test")
    login(client, "lucia@salon.test")
    assert client.get("/account").status_code == 200
    new = "a much better passphrase"
    weak = post(
        client, "/account/password", {"current_password": PASSWORD, "new_password": "1234567890"}
    )
    assert weak.status_code == 422
    wrong = post(client, "/account/password", {"current_password": "nope", "new_password": new})
    assert wrong.status_code == 422
    ok = post(client, "/account/password", {"current_password": PASSWORD, "new_password": new})
    assert ok.status_code == 303
    assert client.get("/pro/").status_code == 200  # this device stays in
    assert other_device.get("/pro/").status_code == 303
    login(app.test_client(), "lucia@salon.test", new)


@pytest.mark.parametrize(
    "password",
    ["short", " " * 12, "\t\t\t\t\t\t\t\t\t\t\t", "aaaaaaaaaaaa", "password123", "Qwertyuiop"],
)
def test_weak_passwords_are_refused_everywhere(
    client: FlaskClient, runner: FlaskCliRunner, salon: Salon, password: str
) -> None:
    cli = runner.invoke(
        args=["users", "create", "--email", "x@salon.test", "--password", password, "--role", "ops"]
    )
    assert cli.exit_code != 0
    assert "password" in cli.output
    login(client, "admin@salon.test")
    created = post(
        client,
        "/admin/users/new",
        {"email": "y@salon.test", "password": password, "role": "ops", "stylist_id": "0"},
    )
    assert created.status_code == 422
    edited = post(
        client,
        f"/admin/users/{salon.ops.id}",
        {"role": "ops", "stylist_id": "0", "active": "y", "new_password": password},
    )
    assert edited.status_code == 422
