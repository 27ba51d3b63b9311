"""gunicorn settings read automatically by ``gunicorn wsgi:app`` from this folder.

Only what PeluBot needs to be correct under several processes; bind address, worker
count and the rest stay on the command line (see docs/operations.md).
"""

from __future__ import annotations

import os
from typing import Any


def when_ready(server: Any) -> None:
    """Warn from the address gunicorn really listens on (``--bind``), not a guess."""
    from pelubot_web.config import Config, ConfigError, warn_if_open_without_auth

    try:
        cfg = Config.from_env()
    except ConfigError:
        return  # the app itself reports it in one line when it loads
    warn_if_open_without_auth(cfg, list(server.cfg.bind))


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from /metrics (prometheus multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
