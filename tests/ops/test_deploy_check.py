"""``flask deploy-check`` flags every weak setting and passes a good production setup."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from redis import Redis

from pelubot_web import create_app
from pelubot_web.config import current_config, install_config
from pelubot_web.deploy_check import ERROR, OK, WARNING, Finding, run_checks
from pelubot_web.extensions import db
from pelubot_web.gcal.emulator import EmulatorControl
from pelubot_web.services import sync_status
from tests import factories
from tests.conftest import DIALECT, DatabaseFactory, free_port
from tests.ops.conftest import production_config
from tests.sync.conftest import ROOT, WorkerProcess, wait_until

LINE = re.compile(r"^(OK|WARNING|ERROR)\s+[a-z-]+\s+\S")


def findings_with(app: Flask, **settings: Any) -> list[Finding]:
    """Run the checks as if the app had been started with ``settings`` changed.

    The config is swapped without the start-up validation on purpose: deploy-check must
    catch what start-up lets through, and some of these values start-up would refuse.
    """
    install_config(app, replace(current_config(app), **settings))
    return run_checks(app)


def problems(findings: list[Finding]) -> list[str]:
    return [f"{f.severity} {f.check}: {f.message}" for f in findings if f.severity != OK]


def start_heartbeating_worker(start_worker: Callable[..., WorkerProcess]) -> WorkerProcess:
    worker = start_worker(PELUBOT_GCAL_BACKEND="disabled")
    wait_until(
        lambda: sync_status.worker_heartbeat_age_s() is not None,
        what="the worker's first heartbeat",
    )
    return worker


@pytest.mark.slow
def test_a_good_production_setup_passes(
    runner: FlaskCliRunner, redis_conn: Redis, start_worker: Callable[..., WorkerProcess]
) -> None:
    start_heartbeating_worker(start_worker)

    result = runner.invoke(args=["deploy-check"])

    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert all(LINE.match(line) for line in lines[:-1]), result.output
    assert lines[-1].startswith("0 error(s)")
    checks = {line.split()[1] for line in lines[:-1]}
    assert {"environment", "secrets", "public-url", "proxies", "database", "migrations"} <= checks
    assert {"redis", "worker", "mail", "google", "timezone", "auth", "metrics"} <= checks
    warnings = [line for line in lines if line.startswith("WARNING")]
    if DIALECT == "postgresql":
        assert warnings == []
    else:
        assert [w.split()[1] for w in warnings] == ["database"]  # SQLite in prod


WEAK_SETTINGS = [
    ({"env": "dev"}, "PELUBOT_ENV is dev"),
    ({"secret_key": "short-secret"}, "PELUBOT_SECRET_KEY must be at least 32 characters"),
    ({"secret_key": "s" * 40}, "PELUBOT_SECRET_KEY must not be one character repeated"),
    ({"secret_key": "abab" * 10}, "PELUBOT_SECRET_KEY has too few distinct characters"),
    ({"secret_key": "test-secret-key-not-for-production"}, "PELUBOT_SECRET_KEY looks like a"),
    ({"api_key": "changeme"}, "PELUBOT_API_KEY must not be 'changeme'"),
    (
        {
            "secret_key": "same-" + "a1b2c3d4e5f6g7h8" * 2,
            "api_key": "same-" + "a1b2c3d4e5f6g7h8" * 2,
        },
        "PELUBOT_SECRET_KEY and PELUBOT_API_KEY are the same value",
    ),
    ({"secret_key_fallbacks": ("old",)}, "PELUBOT_SECRET_KEY_FALLBACKS entry must be at least 32"),
    ({"allow_local_no_auth": True}, "PELUBOT_ALLOW_LOCAL_NO_AUTH is on"),
    ({"public_base_url": "http://reservas.peluqueria.es"}, "PELUBOT_PUBLIC_BASE_URL is not https"),
    ({"public_base_url": "https://127.0.0.1:8000"}, "points at this machine"),
    ({"trusted_proxies": 0}, "PELUBOT_TRUSTED_PROXIES=0"),
    ({"metrics_token": "metrics"}, "PELUBOT_METRICS_TOKEN must be at least 32"),
    ({"metrics_allowed_networks": ("0.0.0.0/0",)}, "lets anyone read /metrics"),
    (
        {"metrics_allowed_networks": ("127.0.0.0/8",), "trusted_proxies": 0},
        "every client looks like loopback",
    ),
    ({"timezone": "Mars/Olympus_Mons"}, "PELUBOT_TIMEZONE is not a known time zone"),
    ({"gcal_backend": "emulator"}, "PELUBOT_GCAL_BACKEND=emulator"),
    ({"gcal_credentials_file": "/nonexistent/sa.json"}, "cannot read /nonexistent/sa.json"),
]


@pytest.mark.parametrize(("settings", "expected"), WEAK_SETTINGS)
def test_each_weak_setting_is_an_error(
    app: Flask, settings: dict[str, object], expected: str
) -> None:
    errors = [f.message for f in findings_with(app, **settings) if f.severity == ERROR]
    assert any(expected in message for message in errors), errors


def test_mail_is_checked_by_logging_in_to_the_smtp_server(app: Flask) -> None:
    (mail,) = [f for f in run_checks(app) if f.check == "mail"]
    assert mail.severity == OK, mail.message
    assert "accepts our session" in mail.message

    closed = f"smtp://127.0.0.1:{free_port()}"
    (mail,) = [f for f in findings_with(app, smtp_url=closed) if f.check == "mail"]
    assert mail.severity == ERROR
    assert "SMTP connection error" in mail.message

    (mail,) = [f for f in findings_with(app, mail_backend="disabled") if f.check == "mail"]
    assert mail.severity == WARNING
    assert "customers get no confirmation" in mail.message


def test_the_current_key_left_in_the_fallbacks_is_an_error(app: Flask) -> None:
    key = current_config(app).secret_key
    found = findings_with(app, secret_key_fallbacks=(key,))
    assert "PELUBOT_SECRET_KEY_FALLBACKS contains the current PELUBOT_SECRET_KEY" in str(found)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json", "is not JSON"),
        ('{"type": "authorized_user", "client_email": "x"}', "is not a service account key"),
        ('{"type": "service_account", "client_email": "x"}', "not a usable service account key"),
    ],
)
def test_credentials_must_parse_as_a_service_account(
    app: Flask, tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(content)
    found = findings_with(app, gcal_credentials_file=str(path))
    assert any(f.check == "google" and expected in f.message for f in found), problems(found)


def test_a_good_service_account_file_names_its_account(app: Flask) -> None:
    google = [f for f in run_checks(app) if f.check == "google"]
    assert google == [
        Finding(OK, "google", "service account pelubot@pelubot-test.iam.gserviceaccount.com")
    ]


def test_a_proxy_trusted_while_listening_on_every_interface_is_a_warning(app: Flask) -> None:
    found = findings_with(app, bind_host="0.0.0.0")
    proxies = [f for f in found if f.check == "proxies"]
    assert [f.severity for f in proxies] == [WARNING]
    assert "can forge X-Forwarded-For" in proxies[0].message


def test_metrics_nobody_can_scrape_is_a_warning(app: Flask) -> None:
    found = findings_with(app, metrics_allowed_networks=(), metrics_token=None)
    metrics = [f for f in found if f.check == "metrics"]
    assert [f.severity for f in metrics] == [WARNING]


def test_sqlite_in_production_is_a_warning(app: Flask) -> None:
    found = findings_with(app, database_url="sqlite:///instance/pelubot.sqlite3")
    database = [f for f in found if f.check == "database" and f.severity == WARNING]
    assert database
    assert "SQLite in stage/prod" in database[0].message


def test_unreachable_database_and_redis_and_no_worker_are_errors(
    tmp_path: Path, redis_conn: Redis
) -> None:
    app = create_app(
        production_config(
            "postgresql://pelubot@127.0.0.1:1/nowhere",
            tmp_path,
            redis_url="redis://127.0.0.1:1/0",
        )
    )
    errors = {f.check: f.message for f in run_checks(app) if f.severity == ERROR}
    assert errors["database"].startswith("cannot connect")
    assert errors["redis"].startswith("cannot reach Redis")
    assert "no worker has reported" in errors["worker"]


def test_a_database_behind_the_code_must_be_upgraded(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    app = create_app(production_config(database_factory.new_url("behind"), tmp_path))
    errors = {f.check: f.message for f in run_checks(app) if f.severity == ERROR}
    with app.app_context():
        db.engine.dispose()  # the factory drops this database at the end
    assert "database at empty, code expects" in errors["migrations"]
    assert "flask db upgrade" in errors["migrations"]


def test_a_stale_worker_heartbeat_is_an_error(app: Flask, redis_conn: Redis) -> None:
    sync_status.record_worker_heartbeat(redis_conn, "pelubot-gone:1", now=time.time() - 120)
    errors = {f.check: f.message for f in run_checks(app) if f.severity == ERROR}
    assert "last worker heartbeat" in errors["worker"]


def test_the_command_prints_one_line_per_finding_and_fails_on_errors(
    tmp_path: Path, migrated_database_url: str, redis_conn: Redis
) -> None:
    app = create_app(production_config(migrated_database_url, tmp_path, trusted_proxies=0))
    result = app.test_cli_runner().invoke(args=["deploy-check"])
    assert result.exit_code == 1, result.output
    print(result.output)
    lines = result.output.strip().splitlines()
    assert all(LINE.match(line) for line in lines[:-1]), result.output
    assert any(line.startswith("ERROR   proxies") for line in lines)
    assert any(line.startswith("ERROR   worker") for line in lines)
    assert re.fullmatch(r"2 error\(s\), \d warning\(s\)", lines[-1]), lines[-1]


def test_offline_checks_never_call_the_calendar(app: Flask, emulator: EmulatorControl) -> None:
    factories.stylist(calendar_id="lucia@calendar.test")
    db.session.commit()
    findings_with(app, gcal_backend="emulator", gcal_emulator_url=emulator.base_url)
    assert emulator.calls() == []


def test_online_check_reports_each_stylist_calendar(app: Flask, emulator: EmulatorControl) -> None:
    factories.stylist(slug="lucia", calendar_id="lucia@calendar.test")
    factories.stylist(slug="carmen", calendar_id="carmen@calendar.test")
    factories.stylist(slug="rosa", calendar_id="rosa@calendar.test")
    factories.stylist(slug="nueva", calendar_id=None)
    factories.stylist(slug="antigua", calendar_id="antigua@calendar.test", active=False)
    db.session.commit()
    emulator.register_calendar("lucia@calendar.test", access="writer")
    emulator.register_calendar("rosa@calendar.test", access="reader")
    # carmen's calendar was never shared with the service account.
    install_config(
        app,
        replace(current_config(app), gcal_backend="emulator", gcal_emulator_url=emulator.base_url),
    )

    calendars = [f for f in run_checks(app, online=True) if f.check == "calendars"]

    by_stylist = {f.message.split(":")[0]: f for f in calendars}
    assert set(by_stylist) == {"lucia", "carmen", "rosa", "nueva"}
    assert by_stylist["lucia"].severity == OK
    assert "(writer)" in by_stylist["lucia"].message
    assert by_stylist["carmen"].severity == ERROR
    assert "404" in by_stylist["carmen"].message
    assert by_stylist["rosa"].severity == ERROR
    assert "shared as reader" in by_stylist["rosa"].message
    assert by_stylist["nueva"].severity == WARNING


def test_config_errors_stop_the_command_with_one_line() -> None:
    """Start-up refusals (e.g. a missing API key) come first, exactly as at start."""
    env = {"PATH": "/usr/bin:/bin", "PELUBOT_ENV": "prod", "PELUBOT_SECRET_KEY": "x" * 40}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "deploy-check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "PeluBot configuration error: PELUBOT_API_KEY is required" in result.stderr
