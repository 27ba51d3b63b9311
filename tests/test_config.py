"""Settings are read once, checked per environment, and fail with one clear line."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from pelubot_web.config import Config, ConfigError, warn_if_open_without_auth

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "api-key-0123456789-abcdefghijklmnop"
GOOD_SECRET = "secret-key-0123456789-abcdefghijklm"


def prod_env(**extra: str) -> dict[str, str]:
    env = {
        "PELUBOT_ENV": "prod",
        "PELUBOT_API_KEY": GOOD_KEY,
        "PELUBOT_SECRET_KEY": GOOD_SECRET,
        "PELUBOT_GCAL_BACKEND": "disabled",
    }
    env.update(extra)
    return {k: v for k, v in env.items() if v != "<unset>"}


@pytest.mark.parametrize("environment", ["stage", "prod"])
@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"PELUBOT_API_KEY": "<unset>"}, "PELUBOT_API_KEY"),
        ({"PELUBOT_API_KEY": "changeme"}, "PELUBOT_API_KEY"),
        ({"PELUBOT_API_KEY": "short-key-123"}, "PELUBOT_API_KEY"),
        ({"PELUBOT_API_KEY": "k" * 40}, "PELUBOT_API_KEY"),
        ({"PELUBOT_SECRET_KEY": "<unset>"}, "PELUBOT_SECRET_KEY"),
        ({"PELUBOT_SECRET_KEY": GOOD_KEY}, "PELUBOT_SECRET_KEY"),
        ({"PELUBOT_SECRET_KEY": "changeme"}, "PELUBOT_SECRET_KEY"),
        ({"PELUBOT_SECRET_KEY": "ChangeMe"}, "PELUBOT_SECRET_KEY"),
        ({"PELUBOT_SECRET_KEY": "short-secret-31-characters-long"}, "PELUBOT_SECRET_KEY"),
        ({"PELUBOT_SECRET_KEY": "s" * 40}, "PELUBOT_SECRET_KEY"),
        ({"PELUBOT_METRICS_TOKEN": "weak"}, "PELUBOT_METRICS_TOKEN"),
    ],
)
def test_stage_and_prod_refuse_weak_secrets(
    environment: str, overrides: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        Config.from_env(prod_env(PELUBOT_ENV=environment, **overrides))


def test_prod_with_strong_secrets_starts() -> None:
    cfg = Config.from_env(prod_env())
    assert cfg.env == "prod"
    assert cfg.api_key == GOOD_KEY


def test_dev_gets_a_random_secret_key_never_a_fixed_one() -> None:
    first = Config.from_env({"PELUBOT_ENV": "dev"})
    second = Config.from_env({"PELUBOT_ENV": "dev"})
    assert first.secret_key
    assert second.secret_key
    assert first.secret_key != second.secret_key


@pytest.mark.parametrize("environment", ["test", "stage", "prod"])
def test_local_no_auth_is_ignored_outside_dev(
    environment: str, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = Config.from_env(prod_env(PELUBOT_ENV=environment, PELUBOT_ALLOW_LOCAL_NO_AUTH="true"))
    assert cfg.allow_local_no_auth is False
    assert "ignored outside dev" in caplog.text


def test_local_no_auth_is_honoured_in_dev() -> None:
    cfg = Config.from_env({"PELUBOT_ENV": "dev", "PELUBOT_ALLOW_LOCAL_NO_AUTH": "1"})
    assert cfg.allow_local_no_auth is True


def test_local_no_auth_on_all_interfaces_warns(caplog: pytest.LogCaptureFixture) -> None:
    Config.from_env(
        {"PELUBOT_ENV": "dev", "PELUBOT_ALLOW_LOCAL_NO_AUTH": "1", "PELUBOT_BIND_HOST": "0.0.0.0"}
    )
    assert "0.0.0.0" in caplog.text


@pytest.mark.parametrize(
    ("binds", "warns"),
    [
        (["0.0.0.0:8000"], True),
        (["[::]:8000"], True),
        (["127.0.0.1:8000", "0.0.0.0:9000"], True),
        (["127.0.0.1:8000"], False),
        (["[::1]:8000"], False),
        (["unix:/run/pelubot.sock"], False),
    ],
)
def test_the_open_bind_warning_looks_at_the_real_bind_addresses(
    binds: list[str], warns: bool, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = Config.from_env({"PELUBOT_ENV": "dev", "PELUBOT_ALLOW_LOCAL_NO_AUTH": "1"})
    caplog.clear()
    assert warn_if_open_without_auth(cfg, binds) is warns
    assert ("reachable from the network" in caplog.text) is warns


def test_gunicorn_warns_from_its_own_bind_address(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gunicorn.conf.py's when_ready hook reads ``server.cfg.bind``, not a setting."""
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    server = SimpleNamespace(cfg=SimpleNamespace(bind=["0.0.0.0:8000"]))
    for name in list(os.environ):
        if name.startswith("PELUBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PELUBOT_ENV", "dev")
    monkeypatch.setenv("PELUBOT_ALLOW_LOCAL_NO_AUTH", "1")
    hooks["when_ready"](server)
    assert "0.0.0.0:8000" in caplog.text


def test_metrics_networks_default_to_nobody_in_prod_and_local_networks_in_dev() -> None:
    assert Config.from_env(prod_env()).metrics_allowed_networks == ()
    dev = Config.from_env({"PELUBOT_ENV": "dev"}).metrics_allowed_networks
    assert dev is not None
    assert "127.0.0.0/8" in dev
    custom = Config.from_env(prod_env(PELUBOT_METRICS_ALLOWED_NETWORKS="10.1.0.0/16, 192.0.2.7"))
    assert custom.metrics_allowed_networks == ("10.1.0.0/16", "192.0.2.7/32")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PELUBOT_ENV": "production"}, "PELUBOT_ENV"),
        ({"PELUBOT_SYNC_MAX_ATTEMPTS": "many"}, "PELUBOT_SYNC_MAX_ATTEMPTS"),
        ({"PELUBOT_SYNC_MAX_ATTEMPTS": "0"}, "PELUBOT_SYNC_MAX_ATTEMPTS"),
        ({"PELUBOT_ALLOW_LOCAL_NO_AUTH": "maybe"}, "PELUBOT_ALLOW_LOCAL_NO_AUTH"),
        ({"PELUBOT_TIMEZONE": "Mars/Olympus"}, "PELUBOT_TIMEZONE"),
        ({"PELUBOT_DATABASE_URL": "mysql://x"}, "PELUBOT_DATABASE_URL"),
        ({"PELUBOT_REDIS_URL": "localhost:6379"}, "PELUBOT_REDIS_URL"),
        ({"PELUBOT_GCAL_BACKEND": "outlook"}, "PELUBOT_GCAL_BACKEND"),
        ({"PELUBOT_CATALOG_CACHE_TTL_S": "300"}, "PELUBOT_CATALOG_CACHE_TTL_S"),
        ({"PELUBOT_METRICS_ALLOWED_NETWORKS": "10.0.0.0/8,intranet"}, "METRICS_ALLOWED"),
    ],
)
def test_malformed_settings_name_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Config.from_env(env)


def test_postgres_urls_use_psycopg3() -> None:
    cfg = Config.from_env({"PELUBOT_DATABASE_URL": "postgresql://u@h/db"})
    assert cfg.database_url == "postgresql+psycopg://u@h/db"


def test_secrets_are_redacted_for_logs() -> None:
    cfg = Config.from_env(prod_env(PELUBOT_DATABASE_URL="postgresql://app:hunter2@db/pelubot"))
    shown = repr(cfg.redacted())
    assert GOOD_KEY not in shown
    assert "hunter2" not in shown
    assert "***" in shown


def test_bad_settings_stop_the_wsgi_app_with_one_line_and_no_traceback() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PELUBOT_")}
    env.update(prod_env(PELUBOT_API_KEY="changeme"))
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["PeluBot configuration error: PELUBOT_API_KEY must not be 'changeme'"]


@pytest.mark.parametrize("name", ["SECRET_KEY", "API_KEY"])
def test_secrets_can_come_from_files_without_their_trailing_newline(
    tmp_path: Path, name: str
) -> None:
    secret = "from-a-file-" + "x1y2z3" * 6
    path = tmp_path / name.lower()
    path.write_text(secret + "\n", encoding="utf-8")
    env = prod_env(**{f"PELUBOT_{name}": "<unset>", f"PELUBOT_{name}_FILE": str(path)})
    cfg = Config.from_env(env)
    assert getattr(cfg, name.lower()) == secret


@pytest.mark.parametrize("name", ["SECRET_KEY", "API_KEY", "SECRET_KEY_FALLBACKS"])
def test_setting_a_secret_and_its_file_is_an_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / "secret"
    path.write_text("s" * 40, encoding="utf-8")
    env = prod_env(**{f"PELUBOT_{name}": "v" * 40, f"PELUBOT_{name}_FILE": str(path)})
    with pytest.raises(ConfigError, match=f"PELUBOT_{name} or PELUBOT_{name}_FILE, not both"):
        Config.from_env(env)


def test_a_missing_or_empty_secret_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(ConfigError, match="PELUBOT_SECRET_KEY_FILE cannot be read"):
        Config.from_env(
            prod_env(PELUBOT_SECRET_KEY="<unset>", PELUBOT_SECRET_KEY_FILE=str(missing))
        )
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="PELUBOT_API_KEY_FILE is empty"):
        Config.from_env(prod_env(PELUBOT_API_KEY="<unset>", PELUBOT_API_KEY_FILE=str(empty)))


def test_secret_key_fallbacks_are_a_list_from_the_environment_or_a_file(tmp_path: Path) -> None:
    cfg = Config.from_env(prod_env(PELUBOT_SECRET_KEY_FALLBACKS="old-one, old-two"))
    assert cfg.secret_key_fallbacks == ("old-one", "old-two")
    path = tmp_path / "fallbacks"
    path.write_text("old-one\nold-two\n", encoding="utf-8")
    cfg = Config.from_env(prod_env(PELUBOT_SECRET_KEY_FALLBACKS_FILE=str(path)))
    assert cfg.secret_key_fallbacks == ("old-one", "old-two")
    assert cfg.redacted()["secret_key_fallbacks"] == "***"


def test_the_api_key_cannot_be_a_secret_key_fallback() -> None:
    with pytest.raises(ConfigError, match="PELUBOT_SECRET_KEY_FALLBACKS"):
        Config.from_env(prod_env(PELUBOT_SECRET_KEY_FALLBACKS=GOOD_KEY))


def test_an_empty_fallbacks_file_means_no_rotation_in_progress(tmp_path: Path) -> None:
    path = tmp_path / "fallbacks"
    path.write_text("\n", encoding="utf-8")
    cfg = Config.from_env(prod_env(PELUBOT_SECRET_KEY_FALLBACKS_FILE=str(path)))
    assert cfg.secret_key_fallbacks == ()


def test_urls_with_passwords_can_come_from_files(tmp_path: Path) -> None:
    path = tmp_path / "database_url"
    path.write_text("postgresql://pelubot:s3cret@db.internal/pelubot\n", encoding="utf-8")
    cfg = Config.from_env(prod_env(PELUBOT_DATABASE_URL_FILE=str(path)))
    assert cfg.database_url == "postgresql+psycopg://pelubot:s3cret@db.internal/pelubot"
    assert "s3cret" not in str(cfg.redacted())
