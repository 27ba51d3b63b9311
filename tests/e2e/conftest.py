"""End-to-end fixtures: the app in a real threaded HTTP server, Debian's Chromium driven
by Playwright, the Calendar emulator and (for sync) a real worker process.

Never downloads a browser: Chromium comes from the distribution (``make test`` installs it
through ``scripts/system-packages``). Every test here is marked ``e2e`` by tests/conftest.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright
from werkzeug.serving import make_server

from pelubot_web.config import Config
from pelubot_web.gcal.emulator import EmulatorControl
from tests.conftest import make_config
from tests.sync.conftest import (  # noqa: F401  (fixtures shared with the sync tests)
    emulator,
    emulator_server,
    share_stylist_calendars,
    start_worker,
    sync_overrides,
)
from tests.web.conftest import Salon, salon  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def config(migrated_database_url: str, emulator: EmulatorControl) -> Config:  # noqa: F811
    return make_config(migrated_database_url, **sync_overrides(emulator.base_url))


@pytest.fixture
def live_server(app: Flask, redis_conn: object) -> Iterator[str]:
    """The test app served over real HTTP by a threaded werkzeug server."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Screens:
    """Opens browser contexts (one per person) and saves screenshots as artifacts.

    Every page runs under the app's real Content-Security-Policy; a violation (inline
    script or style, eval, a foreign source) reported on the console is recorded in
    ``csp_violations`` and fails the test at teardown.
    """

    def __init__(self, browser: Browser, base_url: str, artifacts: Path, test_name: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.artifacts = artifacts
        self.test_name = test_name
        self.contexts: list[BrowserContext] = []
        self.csp_violations: list[str] = []

    def _watch_console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            where = message.location or {}
            self.csp_violations.append(
                f"{where.get('url')}:{where.get('lineNumber')} {message.text[:200]}"
            )

    def open(self, locale: str = "es-ES", viewport: dict[str, int] | None = None) -> Page:
        context = self.browser.new_context(
            base_url=self.base_url,
            locale=locale,
            viewport=viewport or DESKTOP,  # type: ignore[arg-type]
        )
        context.set_default_timeout(10_000)
        context.on("console", self._watch_console)
        self.contexts.append(context)
        return context.new_page()

    def shot(self, page: Page, name: str) -> Path:
        path = self.artifacts / f"{self.test_name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def screens(
    browser: Browser, live_server: str, artifacts_dir: Path, request: pytest.FixtureRequest
) -> Iterator[Screens]:
    name = request.node.name.removeprefix("test_")
    helper = Screens(browser, live_server, artifacts_dir, name)
    yield helper
    helper.close()
    assert helper.csp_violations == [], "pages broke the Content-Security-Policy"


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(lambda url: "/login" not in url)
