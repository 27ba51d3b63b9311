"""gunicorn settings read automatically by ``gunicorn wsgi:app`` from this folder.

Only what PeluBot needs to be correct under several processes; bind address, worker
count and the rest stay on the command line (see docs/operations.md).
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

from pelubot_web.observability import redact_secret_paths


class RedactingLogger(Logger):  # type: ignore[misc]
    """gunicorn's access log (``--access-logfile``) without manage-link tokens in paths."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {k: redact_secret_paths(v) if isinstance(v, str) else v for k, v in atoms.items()}


logger_class = RedactingLogger


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
