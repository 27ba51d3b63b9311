"""The emulator's HTTP surface: Google's error shapes, routing and the control API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from pelubot_web.gcal.emulator import CalendarStore, EmulatorApp, EmulatorControl
from pelubot_web.gcal.transport import EMULATOR_SUBJECT_HEADER
from tests.conftest import free_port

EVENTS = "/calendar/v3/calendars/ana%40salon.test/events"
BODY = {
    "id": "abcde12345",
    "summary": "Corte",
    "start": {"dateTime": "2030-03-04T10:00:00+01:00"},
    "end": {"dateTime": "2030-03-04T10:30:00+01:00"},
}


@dataclass(frozen=True)
class Reply:
    status_code: int
    json: Any


class Emulator:
    """An in-process emulator with a fake clock for latency."""

    def __init__(self) -> None:
        self.slept: list[float] = []
        self.app = EmulatorApp(CalendarStore(), sleep=self.slept.append)
        for calendar_id in ("ana@salon.test", "bea@salon.test", "team/ana@salon.test"):
            self.app.store.register_calendar(calendar_id)
        self.client = Client(self.app)

    def call(self, method: str, path: str, body: Any = None) -> Reply:
        response = self.client.open(path, method=method, json=body)
        return Reply(response.status_code, response.get_json(silent=True))


@pytest.fixture
def emulator() -> Emulator:
    return Emulator()


def test_errors_have_googles_json_shape(emulator: Emulator) -> None:
    emulator.call("POST", EVENTS, BODY)

    response = emulator.call("POST", EVENTS, BODY)

    assert response.status_code == 409
    assert response.json == {
        "error": {
            "errors": [
                {
                    "domain": "global",
                    "reason": "duplicate",
                    "message": "The requested identifier already exists.",
                }
            ],
            "code": 409,
            "message": "The requested identifier already exists.",
        }
    }


def test_delete_answers_204_then_410_and_404_for_unknown(emulator: Emulator) -> None:
    emulator.call("POST", EVENTS, BODY)

    assert emulator.call("DELETE", f"{EVENTS}/abcde12345").status_code == 204
    gone = emulator.call("DELETE", f"{EVENTS}/abcde12345")
    assert gone.status_code == 410
    assert gone.json["error"]["errors"][0]["reason"] == "deleted"
    assert emulator.call("DELETE", f"{EVENTS}/vvvvv12345").status_code == 404


def test_injected_rate_limit_uses_googles_usage_limits_body(emulator: Emulator) -> None:
    emulator.call("POST", "/_emulator/faults", {"status": 403, "reason": "rateLimitExceeded"})

    response = emulator.call("GET", f"{EVENTS}/abcde12345")

    assert response.status_code == 403
    assert response.json["error"]["errors"] == [
        {"domain": "usageLimits", "reason": "rateLimitExceeded", "message": "Rate Limit Exceeded"}
    ]


def test_faults_never_touch_the_control_api(emulator: Emulator) -> None:
    emulator.call("POST", "/_emulator/faults", {"status": 503})

    assert emulator.call("GET", "/_emulator/events").status_code == 200
    assert emulator.call("GET", "/_emulator/stats").json["total"] == 0
    assert emulator.call("POST", EVENTS, BODY).status_code == 503


def test_latency_without_status_slows_the_call_but_lets_it_through(emulator: Emulator) -> None:
    emulator.call("POST", "/_emulator/faults", {"latency_ms": 250, "methods": ["insert"]})

    assert emulator.call("POST", EVENTS, BODY).status_code == 200
    assert emulator.call("GET", f"{EVENTS}/abcde12345").status_code == 200
    assert emulator.slept == [0.25]


@pytest.mark.parametrize(
    "spec",
    [
        {"status": 200},
        {"status": 503, "rate": 2},
        {"status": 503, "count": 0},
        {"status": 503, "methods": ["move"]},
        {"status": 503, "latency": 10},
        {"rate": 0.5},
    ],
)
def test_bad_fault_specs_are_refused(emulator: Emulator, spec: dict[str, Any]) -> None:
    response = emulator.call("POST", "/_emulator/faults", spec)

    assert response.status_code == 400
    assert emulator.call("GET", "/_emulator/faults").json == {"items": []}


def test_reset_clears_events_faults_stats_and_calendars(emulator: Emulator) -> None:
    emulator.call("POST", EVENTS, BODY)
    emulator.call("POST", "/_emulator/faults", {"status": 503, "methods": ["list"]})

    emulator.call("POST", "/_emulator/reset")

    assert emulator.call("GET", "/_emulator/events").json == {"items": []}
    assert emulator.call("GET", "/_emulator/faults").json == {"items": []}
    assert emulator.call("GET", "/_emulator/stats").json["total"] == 0
    assert emulator.call("POST", EVENTS, BODY).status_code == 404  # calendar unknown again
    emulator.call("POST", "/_emulator/calendars", {"id": "ana@salon.test"})
    assert emulator.call("POST", EVENTS, BODY).status_code == 200  # same id is free again


def test_dump_filters_by_calendar_and_tags_each_event(emulator: Emulator) -> None:
    emulator.call("POST", EVENTS, BODY)
    emulator.call("POST", "/calendar/v3/calendars/bea%40salon.test/events", BODY)

    everything = emulator.call("GET", "/_emulator/events").json["items"]
    only_bea = emulator.call("GET", "/_emulator/events?calendar_id=bea%40salon.test").json

    assert [e["calendarId"] for e in everything] == ["ana@salon.test", "bea@salon.test"]
    assert [e["calendarId"] for e in only_bea["items"]] == ["bea@salon.test"]


def test_an_encoded_slash_stays_inside_the_calendar_id(emulator: Emulator) -> None:
    response = emulator.call("POST", "/calendar/v3/calendars/team%2Fana%40salon.test/events", BODY)

    assert response.status_code == 200
    assert emulator.call("GET", "/_emulator/events").json["items"][0]["calendarId"] == (
        "team/ana@salon.test"
    )


def test_call_log_records_what_each_call_got(emulator: Emulator) -> None:
    fault = emulator.call("POST", "/_emulator/faults", {"status": 500, "count": 1}).json
    emulator.call("POST", EVENTS, BODY)
    emulator.call("POST", EVENTS, BODY)

    calls = emulator.call("GET", "/_emulator/calls").json["items"]

    assert [(c["method"], c["status"], c["faultId"]) for c in calls] == [
        ("insert", 500, fault["id"]),
        ("insert", 200, None),
    ]
    assert calls[0]["calendarId"] == "ana@salon.test"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "reason"),
    [
        ("GET", "/calendar/v3/users/me/calendarList", None, 404, "notFound"),
        ("POST", f"{EVENTS}/abcde12345", BODY, 405, "httpMethodNotAllowed"),
        ("GET", f"{EVENTS}?timeMin=yesterday", None, 400, "invalid"),
        ("GET", f"{EVENTS}?maxResults=0", None, 400, "invalid"),
        ("POST", "/calendar/v3/freeBusy", {"timeMin": "2030-01-01T00:00:00Z"}, 400, "invalid"),
    ],
)
def test_bad_requests_get_google_errors(
    emulator: Emulator, method: str, path: str, body: Any, status: int, reason: str
) -> None:
    response = emulator.call(method, path, body)

    assert response.status_code == status
    assert response.json["error"]["errors"][0]["reason"] == reason


def test_a_body_that_is_not_json_is_a_parse_error(emulator: Emulator) -> None:
    response = emulator.client.post(EVENTS, data=b"{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.get_json()["error"]["errors"][0]["reason"] == "parseError"


@pytest.mark.slow  # a server process
def test_a_calendar_shared_with_users_is_not_found_for_anyone_else(emulator: Emulator) -> None:
    shared = emulator.call(
        "POST", "/_emulator/calendars", {"id": "ana@salon.test", "sharedWith": ["ana@salon.es"]}
    )
    assert shared.json["sharedWith"] == ["ana@salon.es"]

    def as_user(subject: str | None, method: str, path: str, body: Any = None) -> int:
        headers = {EMULATOR_SUBJECT_HEADER: subject} if subject else {}
        return int(
            emulator.client.open(path, method=method, json=body, headers=headers).status_code
        )

    assert as_user(None, "POST", EVENTS, BODY) == 404  # the service account itself
    assert as_user("bea@salon.es", "POST", EVENTS, BODY) == 404
    assert as_user("bea@salon.es", "GET", "/calendar/v3/calendars/ana%40salon.test") == 404
    assert as_user("ana@salon.es", "POST", EVENTS, BODY) == 200
    assert as_user("ana@salon.es", "DELETE", f"{EVENTS}/abcde12345") == 204
    # Unshared calendars keep answering whoever the caller acts as.
    assert as_user("ana@salon.es", "GET", "/calendar/v3/calendars/bea%40salon.test/events") == 200


def test_sharing_must_name_users(emulator: Emulator) -> None:
    bad = {"id": "ana@salon.test", "sharedWith": "ana@salon.es"}
    assert emulator.call("POST", "/_emulator/calendars", bad).status_code == 400


def test_python_dash_m_starts_the_emulator_with_its_calendars() -> None:
    port = free_port()
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pelubot_web.gcal.emulator",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--calendar",
            "ana@salon.test",
            "--demo",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        control = EmulatorControl(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 15
        while True:
            try:
                assert control.health()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{EVENTS}",
            data=json.dumps(BODY).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        registered = {item["id"] for item in control.calendars()}
        assert "ana@salon.test" in registered
        assert "lucia.fernandez@peluqueria-demo.pelubot.es" in registered
        assert [e["id"] for e in control.events()] == ["abcde12345"]
    finally:
        process.terminate()
        process.wait(timeout=10)
