"""Building the client: the right base URL, HTTP object and no network at build time."""

from __future__ import annotations

from pathlib import Path

import google_auth_httplib2
import httplib2
import pytest

from pelubot_web.gcal import CalendarDisabled, build_calendar_service, emulator_api_endpoint
from pelubot_web.gcal.transport import CALENDAR_SCOPE
from tests import factories


@pytest.mark.parametrize(
    "emulator_url",
    ["http://127.0.0.1:8085", "http://127.0.0.1:8085/", "http://127.0.0.1:8085/calendar/v3/"],
)
def test_api_endpoint_carries_the_calendar_v3_path(emulator_url: str) -> None:
    assert emulator_api_endpoint(emulator_url) == "http://127.0.0.1:8085/calendar/v3/"


def test_emulator_requests_go_to_the_emulator_under_calendar_v3() -> None:
    service = build_calendar_service(
        "emulator", credentials_file=None, emulator_url="http://127.0.0.1:9", timeout=2.0
    )

    request = service.events().get(calendarId="ana@salon.test", eventId="abcde12345")

    assert request.uri.startswith(
        "http://127.0.0.1:9/calendar/v3/calendars/ana%40salon.test/events/abcde12345"
    )
    assert service._http.timeout == 2.0
    # Plain HTTP, no OAuth token for the emulator (the delegated user goes in a header).
    assert isinstance(service._http, httplib2.Http)
    assert not isinstance(service._http, google_auth_httplib2.AuthorizedHttp)


def test_freebusy_path_matches_the_emulator_route() -> None:
    service = build_calendar_service(
        "emulator", credentials_file=None, emulator_url="http://127.0.0.1:9"
    )

    assert (
        service.freebusy().query(body={}).uri.startswith("http://127.0.0.1:9/calendar/v3/freeBusy")
    )


@pytest.fixture
def service_account_file(tmp_path: Path) -> str:
    return factories.service_account_file(tmp_path)


def test_google_backend_uses_the_service_account_and_builds_offline(
    service_account_file: str,
) -> None:
    service = build_calendar_service(
        "google", credentials_file=service_account_file, emulator_url=None, timeout=3.0
    )

    http = service._http
    assert isinstance(http, google_auth_httplib2.AuthorizedHttp)
    assert http.http.timeout == 3.0
    assert http.credentials.scopes == [CALENDAR_SCOPE]
    assert http.credentials.service_account_email.startswith("pelubot@")
    request = service.events().list(calendarId="ana@salon.test")
    assert request.uri.startswith(
        "https://www.googleapis.com/calendar/v3/calendars/ana%40salon.test/"
    )


def test_each_request_gets_its_own_connection_object(service_account_file: str) -> None:
    service = build_calendar_service(
        "google", credentials_file=service_account_file, emulator_url=None, timeout=3.0
    )

    first = service.events().get(calendarId="ana@salon.test", eventId="abcde12345")
    second = service.events().get(calendarId="ana@salon.test", eventId="abcde12345")

    assert first.http is not second.http
    assert first.http.http is not second.http.http  # not even the socket pool is shared
    assert first.http.credentials is second.http.credentials  # but the token is


def test_domain_wide_delegation_acts_as_the_stylist_with_the_events_scope_only(
    service_account_file: str,
) -> None:
    service = build_calendar_service(
        "google",
        credentials_file=service_account_file,
        emulator_url=None,
        subject="lucia@salon.example",
    )

    credentials = service.events().list(calendarId="primary").http.credentials
    assert credentials._subject == "lucia@salon.example"
    assert credentials.scopes == ["https://www.googleapis.com/auth/calendar.events"]


def test_google_backend_without_credentials_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="credentials"):
        build_calendar_service("google", credentials_file=None, emulator_url=None)


def test_emulator_backend_without_url_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="emulator URL"):
        build_calendar_service("emulator", credentials_file=None, emulator_url="")


def test_disabled_backend_refuses_to_build() -> None:
    with pytest.raises(CalendarDisabled):
        build_calendar_service("disabled", credentials_file=None, emulator_url=None)


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        build_calendar_service("outlook", credentials_file=None, emulator_url=None)
