"""/metrics under gunicorn with several worker processes counts every process's requests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import TEST_REDIS_URL, free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_request_counts_add_up_across_gunicorn_workers(
    migrated_database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    prom_dir = tmp_path / "prom"
    prom_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PELUBOT_")}
    env.update(
        PELUBOT_ENV="test",
        PELUBOT_DATABASE_URL=migrated_database_url,
        PELUBOT_REDIS_URL=TEST_REDIS_URL,
        PELUBOT_GCAL_BACKEND="disabled",
        PROMETHEUS_MULTIPROC_DIR=str(prom_dir),
    )
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "--workers", "3", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        before = _ok_requests(base)
        for _ in range(30):  # spread over the 3 processes by the kernel
            urllib.request.urlopen(f"{base}/health", timeout=5).read()
        after = _ok_requests(base)
        text = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert after - before == 30.0
    assert "pelubot_outbox_rows" in text


def _ok_requests(base: str) -> float:
    """Successful GETs counted so far by all processes (/metrics itself is not counted)."""
    text = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
    match = re.search(r'^flask_http_request_total\{method="GET",status="200"\} (\S+)$', text, re.M)
    assert match, text[:2000]
    return float(match.group(1))
