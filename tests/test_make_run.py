"""`make run` smoke test: the dev stack as a newcomer starts it shows a working salon.

Runs the real ``make run`` (migrate, ``flask dev-salon``, then honcho starting gunicorn,
a worker and the Calendar emulator) on free ports, with its own instance folder and
database, and drives it over HTTP like a browser would.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from redis import Redis

from pelubot_web.gcal.emulator import EmulatorControl
from pelubot_web.models.user import ROLES
from pelubot_web.services.demo_week import DEMO_CUSTOMERS
from tests.conftest import DIALECT, TEST_REDIS_URL, DatabaseFactory, free_port

ROOT = Path(__file__).resolve().parent.parent
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
DEMO_NAMES = [name for name, _ in DEMO_CUSTOMERS]
pytestmark = pytest.mark.slow


@dataclass
class DevStack:
    base_url: str
    emulator_url: str
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_for(check: Callable[[], bool], what: str, stack: DevStack, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"{what} within {timeout:.0f} s; make run printed:\n{stack.output()[-6000:]}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture
def dev_stack(
    tmp_path: Path, database_factory: DatabaseFactory, redis_conn: Redis
) -> Iterator[DevStack]:
    web_port, emulator_port, smtp_port, mail_port = (free_port() for _ in range(4))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PELUBOT_")}
    env.update(
        PELUBOT_WEB_PORT=str(web_port),
        PELUBOT_EMULATOR_PORT=str(emulator_port),
        PELUBOT_MAIL_SMTP_PORT=str(smtp_port),
        PELUBOT_MAIL_HTTP_PORT=str(mail_port),
        PELUBOT_INSTANCE_DIR=str(tmp_path / "instance"),
        PELUBOT_REDIS_URL=TEST_REDIS_URL,  # answers, so no private Redis is started
        PELUBOT_SYNC_POLL_INTERVAL_S="1",
    )
    if DIALECT == "postgresql":
        env["PELUBOT_DATABASE_URL"] = database_factory.new_url("makerun")
    stack = DevStack(
        f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{emulator_port}", tmp_path / "run.log"
    )
    with stack.log_path.open("wb") as log:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: make, honcho and the three
        )
    try:
        _wait_for(
            lambda: process.poll() is not None or _answers(f"{stack.base_url}/health"),
            "the web process answering /health",
            stack,
            timeout=240,
        )
        assert process.poll() is None, stack.output()
        yield stack
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


class Browser:
    """A cookie-keeping HTTP client that posts forms with the page's CSRF token."""

    def __init__(self, stack: DevStack) -> None:
        self.stack = stack
        self.base_url = stack.base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def _open(self, path: str, data: bytes | None = None) -> tuple[str, str]:
        try:
            with self.opener.open(self.base_url + path, data=data, timeout=30) as response:
                return response.geturl(), response.read().decode()
        except urllib.error.HTTPError as exc:
            pytest.fail(f"{path}: {exc}; make run printed:\n{self.stack.output()[-8000:]}")

    def get(self, path: str) -> tuple[str, str]:
        """The final URL (after redirects) and the page."""
        return self._open(path)

    def login(self, email: str, password: str) -> tuple[str, str]:
        _, page = self.get("/login")
        match = META_CSRF.search(page)
        assert match, page[:2000]
        form = {"csrf_token": match.group(1), "email": email, "password": password}
        return self._open("/login", urllib.parse.urlencode(form).encode())


def _printed_logins(output: str) -> list[tuple[str, str, str]]:
    lines = output.split("Demo logins", 1)[1].splitlines()[1:]
    logins: list[tuple[str, str, str]] = []
    for line in lines:
        if not line.startswith("  "):
            break
        role, email, password = line.split()
        logins.append((role, email, password))
    return logins


def _busy_weekday() -> date:
    """A Tuesday to Thursday of the next days, when all four demo stylists work."""
    today = datetime.now(ZoneInfo("Europe/Madrid")).date()
    days = (today + timedelta(days=n) for n in range(7))
    return next(d for d in days if d.weekday() in (1, 2, 3) and (d.month, d.day) != (12, 25))


def _demo_names_in(page: str) -> int:
    return sum(page.count(name) for name in DEMO_NAMES)


def test_make_run_starts_a_salon_with_logins_agendas_and_synced_jobs(dev_stack: DevStack) -> None:
    output = dev_stack.output()
    assert "setup plugin" not in output, "quiet migrations"
    assert "Context impl" not in output, "quiet migrations"
    logins = _printed_logins(output)
    assert {role for role, _, _ in logins} == set(ROLES)

    for role, email, password in logins:
        browser = Browser(dev_stack)
        landing, _ = browser.login(email, password)
        assert "/login" not in landing, f"{role} {email} could not log in"
        if role == "stylist":
            _, week = browser.get("/pro/?view=week")
            assert _demo_names_in(week) >= 12, f"{email}'s week agenda is nearly empty"
        if landing.endswith("/desk/"):
            _, desk = browser.get(f"/desk/?date={_busy_weekday().isoformat()}")
            assert _demo_names_in(desk) >= 12, "the front desk's day is nearly empty"

    ops = Browser(dev_stack)
    ops.login(*next((email, password) for role, email, password in logins if role == "ops"))

    def dashboard_shows_synced_jobs() -> bool:
        _, page = ops.get("/admin/calendar-jobs/?status=succeeded")
        return page.count('data-status="succeeded"') >= 10 and _demo_names_in(page) >= 10

    _wait_for(dashboard_shows_synced_jobs, "the ops dashboard listing synced jobs", dev_stack, 180)
    assert len(EmulatorControl(dev_stack.emulator_url).events()) >= 10, "events in the calendars"

    key = output.split("Demo chatbot API key", 1)[1].splitlines()[0].split()[-1]
    request = urllib.request.Request(
        f"{dev_stack.base_url}/api/v1/reservations?limit=1", headers={"X-API-Key": key}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.load(response)["total"] >= 50
