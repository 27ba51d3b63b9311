"""gunicorn.conf.py: production defaults from the core count, overridable by environment."""

from __future__ import annotations

import multiprocessing
import runpy
from pathlib import Path

import pytest

CONF = str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py")


def test_defaults_are_one_gthread_process_per_core_plus_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("WEB_CONCURRENCY", "GUNICORN_WORKER_CLASS", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    conf = runpy.run_path(CONF)
    assert conf["workers"] == multiprocessing.cpu_count() + 1
    assert (conf["worker_class"], conf["threads"]) == ("gthread", 2)
    assert conf["keepalive"] > 0
    assert conf["control_socket_disable"] is True


def test_environment_overrides_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "7")
    monkeypatch.setenv("GUNICORN_WORKER_CLASS", "sync")
    monkeypatch.setenv("GUNICORN_THREADS", "1")
    conf = runpy.run_path(CONF)
    assert (conf["workers"], conf["worker_class"], conf["threads"]) == (7, "sync", 1)
