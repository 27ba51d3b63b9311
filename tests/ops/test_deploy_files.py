"""The files in deploy/ and docs/operations.md say only what is true of this code."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import fields
from pathlib import Path

import pytest

from pelubot_web.config import Config

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
    assert "--bind 127.0.0.1:8000" in web and "wsgi:app" in web
    assert (ROOT / "wsgi.py").exists() and (ROOT / "worker.py").exists()
    assert "ExecStart=/srv/pelubot/app/.venv/bin/python worker.py" in worker
    nginx = (DEPLOY / "nginx" / "pelubot.conf").read_text(encoding="utf-8")
    assert "server 127.0.0.1:8000" in nginx
    proxy = (DEPLOY / "nginx" / "pelubot-proxy.conf").read_text(encoding="utf-8")
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"):
        assert f"proxy_set_header {header}" in proxy
