"""Fixtures for calendar sync: the emulator over HTTP and real worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from pelubot_web.config import Config
from pelubot_web.extensions import db
from pelubot_web.gcal.emulator import EmulatorControl, RunningEmulator, run_in_thread
from pelubot_web.models import Stylist
from tests.conftest import make_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def emulator_server() -> Iterator[RunningEmulator]:
    with run_in_thread() as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_server: RunningEmulator) -> EmulatorControl:
    control = EmulatorControl(emulator_server.url)
    control.reset()
    return control


@pytest.fixture(autouse=True)
def share_stylist_calendars(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every stylist calendar a test writes is registered with the emulator.

    The emulator answers 404 for calendars nobody shared with the service account, as
    Google does; this plays the salon owner who shares each stylist's calendar. Tests
    about a calendar that is gone unregister it afterwards.
    """
    if "emulator" not in request.fixturenames:
        yield
        return
    control: EmulatorControl = request.getfixturevalue("emulator")

    def register(session: Session, _context: object) -> None:
        for obj in list(session.new) + list(session.dirty):
            if isinstance(obj, Stylist) and obj.calendar_id:
                control.register_calendar(obj.calendar_id, time_zone="Europe/Madrid")

    event.listen(Session, "after_flush", register)
    try:
        yield
    finally:
        event.remove(Session, "after_flush", register)


def sync_overrides(emulator_url: str) -> dict[str, object]:
    """Fast timings so retries and dispatcher cycles happen within a test."""
    return {
        "gcal_backend": "emulator",
        "gcal_emulator_url": emulator_url,
        "gcal_timeout_s": 5.0,
        "sync_poll_interval_s": 0.2,
        "sync_backoff_base_s": 0.05,
        "sync_backoff_cap_s": 0.4,
        "pull_interval_s": 0.5,
        "queue_name": "calendar-sync-test",
        # Far above what the tests send: the shared budget has its own test.
        "gcal_rate_per_minute": 60000.0,
    }


@pytest.fixture
def config(migrated_database_url: str, emulator: EmulatorControl) -> Config:
    return make_config(migrated_database_url, **sync_overrides(emulator.base_url))


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def worker_env(config: Config) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PELUBOT_")}
    env.update(
        {
            "PELUBOT_ENV": "test",
            "PELUBOT_DATABASE_URL": config.database_url,
            "PELUBOT_REDIS_URL": config.redis_url,
            "PELUBOT_SECRET_KEY": "worker-test-secret",
            "PELUBOT_GCAL_BACKEND": config.gcal_backend,
            "PELUBOT_GCAL_EMULATOR_URL": config.gcal_emulator_url,
            "PELUBOT_GCAL_TIMEOUT_S": str(config.gcal_timeout_s),
            "PELUBOT_SYNC_POLL_INTERVAL_S": str(config.sync_poll_interval_s),
            "PELUBOT_SYNC_BACKOFF_BASE_S": str(config.sync_backoff_base_s),
            "PELUBOT_SYNC_BACKOFF_CAP_S": str(config.sync_backoff_cap_s),
            "PELUBOT_SYNC_MAX_ATTEMPTS": str(config.sync_max_attempts),
            "PELUBOT_PULL_INTERVAL_S": str(config.pull_interval_s),
            "PELUBOT_QUEUE_NAME": config.queue_name,
            "PELUBOT_GCAL_RATE_PER_MINUTE": str(config.gcal_rate_per_minute),
        }
    )
    return env


@contextmanager
def worker_starter(
    make_env: Callable[[], dict[str, str]], tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    """``start(**env_overrides)`` runs ``python worker.py``; all are stopped on exit."""
    started: list[WorkerProcess] = []

    def start(**overrides: str) -> WorkerProcess:
        env = make_env()
        env.update(overrides)
        log_path = tmp_path / f"worker-{len(started)}.log"
        with open(log_path, "wb") as handle:  # the child keeps its own copy of the fd
            process = subprocess.Popen(
                [sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=handle, stderr=handle
            )
        worker = WorkerProcess(process, log_path)
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            if worker.process.poll() is None:
                try:
                    worker.terminate(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()


@pytest.fixture
def start_worker(config: Config, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start ``python worker.py`` as a real process; all are stopped after the test."""
    with worker_starter(lambda: worker_env(config), tmp_path) as start:
        yield start


def wait_until(
    predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.1, what: str = ""
) -> None:
    """Poll ``predicate`` (with a fresh DB snapshot each time) until true or time out."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()
        db.session.expire_all()
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


@pytest.fixture
def sync_app(app: Flask, redis_conn: object) -> Flask:
    """The test app with an emptied Redis db (the queue starts empty)."""
    return app
