"""The files in deploy/ and docs/operations.md say only what is true of this code."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from pelubot_web.config import Config
from tests.conftest import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SETTING = re.compile(r"\bPELUBOT_([A-Z0-9_]+)")
# Read by the test suite only, not by the app.
TEST_ONLY_SETTINGS = {"TEST_REDIS_URL"}


def known_settings() -> set[str]:
    names = {f.name.upper() for f in fields(Config)}
    return names | {f"{name}_FILE" for name in names}


def operator_texts() -> dict[str, str]:
    paths = [p for p in DEPLOY.rglob("*") if p.is_file()] + [ROOT / "docs" / "operations.md"]
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in paths}


def test_every_setting_named_for_operators_exists() -> None:
    unknown = {
        f"{path}: PELUBOT_{name}"
        for path, content in operator_texts().items()
        for name in SETTING.findall(content)
        if name not in known_settings() | TEST_ONLY_SETTINGS
    }
    assert not unknown, sorted(unknown)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_units_are_valid(tmp_path: Path) -> None:
    """systemd's own checker, with the install path pointed at this checkout."""
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text(encoding="utf-8").replace("/srv/pelubot/app", str(ROOT))
        name = unit.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(text, encoding="utf-8")
    units = sorted(p.name for p in tmp_path.iterdir())
    result = subprocess.run(
        ["systemd-analyze", "verify", *units],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_the_units_run_this_code() -> None:
    web = (DEPLOY / "systemd" / "pelubot-web.service").read_text(encoding="utf-8")
    worker = (DEPLOY / "systemd" / "pelubot-worker@.service").read_text(encoding="utf-8")
    assert "--bind 127.0.0.1:8000" in web
    assert "wsgi:app" in web
    assert (ROOT / "wsgi.py").exists()
    assert (ROOT / "worker.py").exists()
    assert "ExecStart=/srv/pelubot/app/.venv/bin/python worker.py" in worker
    nginx = (DEPLOY / "nginx" / "pelubot.conf").read_text(encoding="utf-8")
    assert "server 127.0.0.1:8000" in nginx
    proxy = (DEPLOY / "nginx" / "pelubot-proxy.conf").read_text(encoding="utf-8")
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert f"proxy_set_header {header}" in proxy


def test_the_operator_wrapper_reads_the_env_file_and_secret_files(
    tmp_path: Path, migrated_database_url: str, redis_conn: Redis
) -> None:
    """deploy/pelubot-flask as installed, paths pointed here; command-line settings win."""
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    (secrets_dir / "secret_key").write_text(secrets.token_urlsafe(48) + "\n")
    (secrets_dir / "api_key").write_text(secrets.token_urlsafe(48) + "\n")
    (secrets_dir / "secret_key_fallbacks").write_text("")
    env_file = tmp_path / "pelubot.env"
    env_file.write_text(
        "# as in deploy/pelubot.env.example\n"
        "PELUBOT_ENV=prod\n"
        "PELUBOT_DATABASE_URL=sqlite:////nonexistent/overridden.sqlite3\n"
        f"PELUBOT_REDIS_URL={TEST_REDIS_URL}\n"
        "PELUBOT_PUBLIC_BASE_URL=https://reservas.peluqueria.es\n"
        "PELUBOT_TRUSTED_PROXIES=1\n"
        "PELUBOT_GCAL_BACKEND=disabled\n"
        "PELUBOT_METRICS_ALLOWED_NETWORKS=10.0.0.0/8\n"
    )
    wrapper = tmp_path / "pelubot-flask"
    text = (DEPLOY / "pelubot-flask").read_text(encoding="utf-8")
    text = text.replace("/etc/pelubot/pelubot.env", str(env_file))
    text = text.replace("/etc/pelubot/secrets", str(secrets_dir))
    wrapper.write_text(text.replace("/srv/pelubot/app", str(ROOT)))

    result = subprocess.run(
        ["sh", str(wrapper), "deploy-check"],
        env={"PATH": os.environ["PATH"], "PELUBOT_DATABASE_URL": migrated_database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    lines = result.stdout.splitlines()
    assert result.returncode == 1, result.stdout + result.stderr  # no worker is running
    assert "OK      secrets      secrets are strong and distinct" in lines
    assert any(line.startswith("OK      migrations") for line in lines), result.stdout
    assert [line.split()[1] for line in lines if line.startswith("ERROR")] == ["worker"]


class _RecordingEnv(dict[str, str]):
    """An empty environment that remembers every name the config looks up."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


def test_every_setting_the_app_reads_is_in_the_settings_table() -> None:
    env = _RecordingEnv()
    Config.from_env(env)
    read = {name for name in env.asked if name.startswith("PELUBOT_")}
    read -= {f"{name}_FILE" for name in read}  # the _FILE form is documented once above
    assert len(read) > 40  # the recording works
    ops = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    table = ops[ops.index("## Settings") : ops.index("## Production walkthrough")]
    rows = {f"PELUBOT_{name}" for line in table.splitlines() if line.startswith("| `")
            for name in SETTING.findall(line.split("|")[1])}  # fmt: skip
    assert sorted(read - rows) == []
