"""Spanish by default, English on request; error pages in the site's style."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.web.conftest import Salon, book, login, post


def test_spanish_is_the_default(client: FlaskClient, salon: Salon) -> None:
    html = client.get("/book/").get_data(as_text=True)
    assert '<html lang="es">' in html
    assert "Reserva tu cita" in html
    assert "32,00\xa0€" in html


def test_english_from_accept_language_with_english_formats(
    client: FlaskClient, salon: Salon
) -> None:
    headers = {"Accept-Language": "en-GB,en;q=0.9"}
    html = client.get("/book/", headers=headers).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Book an appointment" in html
    assert "€32.00" in html


def test_the_switcher_remembers_the_language(client: FlaskClient, salon: Salon) -> None:
    response = post(client, "/lang", {"lang": "en", "next": "/book/?service=1"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/book/?service=1"
    assert "Book an appointment" in client.get("/book/").get_data(as_text=True)
    post(client, "/lang", {"lang": "es", "next": "https://evil.example/"})
    assert "Reserva tu cita" in client.get("/book/").get_data(as_text=True)
    response = post(client, "/lang", {"lang": "fr", "next": "//evil.example"})
    assert response.headers["Location"] == "/book/"


def test_agenda_dates_and_times_follow_the_locale_in_the_salon_time_zone(
    client: FlaskClient, salon: Salon
) -> None:
    book(salon, salon.lucia, 9, 30)  # 09:30 in Madrid, 07:30 or 08:30 UTC
    login(client, "lucia@salon.test")
    html = client.get(f"/pro/?date={salon.day}").get_data(as_text=True)
    assert "9:30–10:15" in html
    assert "miércoles" in html  # the test day is a Wednesday
    english = client.get(f"/pro/?date={salon.day}&lang=en").get_data(as_text=True)
    assert "Wednesday" in english
    assert "9:30\u202fAM" in english or "9:30 AM" in english


def test_error_pages_are_html_in_the_site_style(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Página no encontrada" in html
    assert 'class="topbar"' in html
    assert (
        client.get("/no-such-page", headers={"Accept-Language": "en"})
        .get_data(as_text=True)
        .count("Page not found")
    )
    response = client.put("/login")
    assert response.status_code == 405
    assert "no está permitida" in response.get_data(as_text=True)


def test_api_paths_get_problem_json_not_html(client: FlaskClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_server_errors_render_the_500_page(client: FlaskClient, salon: Salon) -> None:
    app = client.application

    @app.get("/_boom")
    def boom() -> str:
        raise RuntimeError("kaboom")

    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/_boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Algo ha fallado por nuestra parte" in html
    assert "kaboom" not in html
