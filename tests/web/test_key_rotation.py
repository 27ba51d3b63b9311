"""Rotating PELUBOT_SECRET_KEY: old cookies and forms work while the old key is a fallback."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from pelubot_web import create_app
from tests.conftest import IsolatedClient, make_config
from tests.web.conftest import PASSWORD, Salon, csrf_token, login

OLD_KEY = "old-4c8e0d1f9a7b6e5d3c2b1a0f9e8d7c6b"
NEW_KEY = "new-7f3a9c1e5b2d8f4a6c0e9b7d5f3a1c8e"


def app_with_keys(database_url: str, secret_key: str, fallbacks: tuple[str, ...] = ()) -> Flask:
    app = create_app(
        make_config(database_url, secret_key=secret_key, secret_key_fallbacks=fallbacks)
    )
    app.test_client_class = IsolatedClient
    return app


def client_with_cookies_of(old: FlaskClient, app: Flask) -> FlaskClient:
    """A browser that keeps its cookies while the server restarts with another config."""
    client = app.test_client()
    for name in ("session", "remember_token"):
        cookie = old.get_cookie(name)
        if cookie is not None:
            client.set_cookie(name, cookie.value)
    return client


def is_logged_in(client: FlaskClient) -> bool:
    return client.get("/pro/").status_code == 200


def test_a_session_signed_with_the_old_key_works_while_it_is_a_fallback(
    migrated_database_url: str, salon: Salon
) -> None:
    before = app_with_keys(migrated_database_url, OLD_KEY).test_client()
    login(before, "lucia@salon.test")
    assert is_logged_in(before)

    rotating = app_with_keys(migrated_database_url, NEW_KEY, (OLD_KEY,))
    assert is_logged_in(client_with_cookies_of(before, rotating))

    rotated = app_with_keys(migrated_database_url, NEW_KEY)
    assert not is_logged_in(client_with_cookies_of(before, rotated))


def test_remember_me_survives_the_rotation_until_the_old_key_is_removed(
    migrated_database_url: str, salon: Salon
) -> None:
    before = app_with_keys(migrated_database_url, OLD_KEY).test_client()
    token = csrf_token(before)
    form = {"csrf_token": token, "email": "lucia@salon.test", "password": PASSWORD}
    assert before.post("/login", data={**form, "remember": "y"}).status_code == 303
    remember = before.get_cookie("remember_token")
    assert remember is not None

    def browser_after_restart(app: Flask) -> FlaskClient:
        # The session cookie is gone (browser closed); only the remember-me cookie is left.
        client = app.test_client()
        client.set_cookie("remember_token", remember.value)
        return client

    rotating = app_with_keys(migrated_database_url, NEW_KEY, (OLD_KEY,))
    assert is_logged_in(browser_after_restart(rotating))
    rotated = app_with_keys(migrated_database_url, NEW_KEY)
    assert not is_logged_in(browser_after_restart(rotated))


def test_a_form_opened_before_the_rotation_can_be_sent_after_it(
    migrated_database_url: str, salon: Salon
) -> None:
    before = app_with_keys(migrated_database_url, OLD_KEY).test_client()
    login(before, "lucia@salon.test")
    token_signed_with_old_key = csrf_token(before)

    def logout_with_old_form(app: Flask) -> int:
        client = client_with_cookies_of(before, app)
        data = {"csrf_token": token_signed_with_old_key}
        return client.post("/logout", data=data).status_code

    rotated = app_with_keys(migrated_database_url, NEW_KEY)
    assert logout_with_old_form(rotated) == 400  # session gone and token refused
    rotating = app_with_keys(migrated_database_url, NEW_KEY, (OLD_KEY,))
    assert logout_with_old_form(rotating) in (302, 303)


def test_new_tokens_are_signed_with_the_current_key(
    migrated_database_url: str, salon: Salon
) -> None:
    rotating = app_with_keys(migrated_database_url, NEW_KEY, (OLD_KEY,))
    client = rotating.test_client()
    login(client, "lucia@salon.test")
    only_new = app_with_keys(migrated_database_url, NEW_KEY)
    assert is_logged_in(client_with_cookies_of(client, only_new))
