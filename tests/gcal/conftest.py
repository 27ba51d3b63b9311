"""Fixtures for the Google Calendar package: one emulator per module, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pelubot_web.gcal import CalendarGateway, build_calendar_service
from pelubot_web.gcal.emulator import EmulatorControl, RunningEmulator, run_in_thread

CALENDARS = ("ana@salon.test", "bea@salon.test", "lucia@salon.test")


@pytest.fixture(scope="module")
def gcal_emulator_server() -> Iterator[RunningEmulator]:
    with run_in_thread() as emulator:
        yield emulator


@pytest.fixture
def gcal_emulator_url(gcal_emulator_server: RunningEmulator) -> str:
    """Base URL of a running emulator with no events, faults or recorded calls.

    The calendars these tests use are registered (shared with us); others answer 404.
    """
    control = EmulatorControl(gcal_emulator_server.url)
    control.reset()
    for calendar_id in CALENDARS:
        control.register_calendar(calendar_id)
    return gcal_emulator_server.url


@pytest.fixture
def gcal_emulator(gcal_emulator_url: str) -> EmulatorControl:
    return EmulatorControl(gcal_emulator_url)


@pytest.fixture
def gcal_gateway(gcal_emulator_url: str) -> CalendarGateway:
    service = build_calendar_service(
        "emulator", credentials_file=None, emulator_url=gcal_emulator_url, timeout=5.0
    )
    return CalendarGateway(service)
