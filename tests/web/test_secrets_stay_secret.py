"""Manage-link tokens stay out of logs; logout revokes remember-me; security headers."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pelubot_web.observability import JsonFormatter
from tests import factories
from tests.web.conftest import PASSWORD, Salon, post
from tests.web.test_booking import _book_via_page, _slots

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _every_log_line(caplog: pytest.LogCaptureFixture) -> str:
    formatter = JsonFormatter()
    return "\n".join(formatter.format(r) for r in caplog.records) + caplog.text


def test_no_manage_token_in_logs_after_open_reschedule_and_cancel(
    client: FlaskClient, salon: Salon, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = _book_via_page(client, salon, 11)
    client.get(f"/book/manage/{token}")
    page = client.get(f"/book/manage/{token}/reschedule?day={salon.day}").get_data(as_text=True)
    assert _slots(page)
    new_slot = f"{salon.lucia.id}|{factories.local(salon.day, 11, 15).isoformat()}"
    moved = post(client, f"/book/manage/{token}/reschedule", {"slot": new_slot})
    assert moved.status_code == 303
    assert post(client, f"/book/manage/{token}/cancel").status_code == 303
    client.get(f"/book/manage/{token}x")  # a 404 on a token-like path

    lines = _every_log_line(caplog)
    access = [r for r in caplog.records if r.name == "pelubot.access"]
    assert any(getattr(r, "path", "") == "/book/manage/<token>/reschedule" for r in access)
    assert token not in lines


def test_an_unhandled_error_on_a_manage_link_logs_the_route_not_the_token(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Zm9vYmFyYmF6cXV4c2VjcmV0dG9rZW4xMjM0NTY3ODkw"
    with app.test_request_context(f"/book/manage/{secret}/cancel", method="POST"):
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            app.log_exception(sys.exc_info())
    assert "/book/manage/<token>/cancel" in caplog.text
    assert secret not in _every_log_line(caplog)


def test_werkzeug_request_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    from pelubot_web.observability import RedactSecretPaths

    logger = logging.getLogger("werkzeug.test-redaction")
    logger.addFilter(RedactSecretPaths())
    logger.warning('"%s" 200 -', "GET /book/manage/abcDEF123_-xyz/cancel HTTP/1.1")
    assert "abcDEF123" not in caplog.text
    assert "/book/manage/<token>/cancel" in caplog.text


def _sent_to_login(client: FlaskClient) -> bool:
    response = client.get("/pro/")
    return response.status_code in (302, 303) and "/login" in response.headers["Location"]


def _remember_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("remember_token")
    assert cookie is not None
    return cookie.value


def test_remember_me_replayed_after_logout_is_refused(
    app: Flask, client: FlaskClient, salon: Salon
) -> None:
    response = post(
        client, "/login", {"email": "lucia@salon.test", "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 303
    stolen = _remember_cookie(client)
    before_logout = app.test_client()
    before_logout.set_cookie("remember_token", stolen)
    assert before_logout.get("/pro/").status_code == 200  # the cookie alone logs in

    assert post(client, "/logout").status_code == 303
    thief = app.test_client()
    thief.set_cookie("remember_token", stolen)
    assert _sent_to_login(thief)


def test_logout_ends_only_this_device_unless_asked(
    app: Flask, client: FlaskClient, salon: Salon
) -> None:
    other_device = app.test_client()
    for device in (client, other_device):
        response = post(
            device, "/login", {"email": "lucia@salon.test", "password": PASSWORD, "remember": "y"}
        )
        assert response.status_code == 303
    assert post(client, "/logout").status_code == 303
    assert other_device.get("/pro/").status_code == 200

    # "Sign out everywhere" from the account page ends the other devices too.
    third = app.test_client()
    post(third, "/login", {"email": "lucia@salon.test", "password": PASSWORD})
    assert post(third, "/account/sign-out-everywhere").status_code == 303
    assert _sent_to_login(other_device)
    assert _sent_to_login(third)


@pytest.mark.parametrize(
    "path", ["/book/", "/login", "/api/v1/services", "/no-such-page", "/api/v1/nope", "/health"]
)
def test_security_headers_on_html_api_and_error_responses(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # test env, plain http


def test_manage_pages_keep_no_referrer(client: FlaskClient, salon: Salon) -> None:
    token = _book_via_page(client, salon, 12)
    response = client.get(f"/book/manage/{token}")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_hsts_in_production_over_https(migrated_database_url: str) -> None:
    from pelubot_web import create_app
    from tests.conftest import make_config

    app = create_app(
        make_config(
            migrated_database_url,
            env="prod",
            api_key="prod-api-key-0123456789-abcdefghijkl",
            secret_key="prod-secret-key-0123456789-abcdefghij",
        )
    )
    response = app.test_client().get("/health", base_url="https://pelu.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


INLINE_CODE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|hx-on|javascript:")


def test_templates_carry_no_inline_script_or_style() -> None:
    """The CSP allows no inline code: a template that needs some would break in browsers."""
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in TEMPLATES.rglob("*.html")
        for match in INLINE_CODE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
