"""One set of app-level error handlers: problem+json under /api, the site's pages elsewhere."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient


@pytest.fixture
def crashing_client(app: Flask) -> FlaskClient:
    """The app with a view that crashes under /api and one under /pro, as in production."""

    def crash() -> str:
        raise RuntimeError("kaboom")

    app.add_url_rule("/api/v1/_crash", "api_crash", crash)
    app.add_url_rule("/pro/_crash", "pro_crash", crash)
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app.test_client()


def test_a_crash_under_the_api_is_problem_json_logged_by_the_api_handler(
    crashing_client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="pelubot_web.api.errors"):
        response = crashing_client.get("/api/v1/_crash")
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 500
    assert body["code"] == "internal_server_error"
    assert "kaboom" not in response.get_data(as_text=True)
    # api/errors.handle_internal_error ran: it logs the original exception.
    logged = [r for r in caplog.records if r.getMessage() == "unhandled error in an API request"]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert isinstance(logged[0].exc_info[1], RuntimeError)


def test_a_crash_in_the_staff_portal_is_the_html_500_page(crashing_client: FlaskClient) -> None:
    response = crashing_client.get("/pro/_crash")
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Algo ha fallado por nuestra parte" in html
    assert "kaboom" not in html


def test_unknown_paths_follow_the_same_split(client: FlaskClient) -> None:
    api = client.get("/api/nothing-here")
    assert api.status_code == 404
    assert api.mimetype == "application/problem+json"
    assert client.get("/api").mimetype == "application/problem+json"
    page = client.get("/apiary")
    assert page.status_code == 404
    assert page.mimetype == "text/html"


def test_the_handlers_are_registered_once_and_the_api_adds_none(app: Flask) -> None:
    from pelubot_web import errors

    handlers = app.error_handler_spec[None]
    registered = {h for by_class in handlers.values() for h in by_class.values()}
    owners = {h.__module__ for h in registered}
    assert owners == {errors.__name__}
    blueprint_handlers = {
        name: spec for name, spec in app.error_handler_spec.items() if name is not None and spec
    }
    assert blueprint_handlers == {}
