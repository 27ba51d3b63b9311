"""gunicorn settings read automatically by ``gunicorn wsgi:app`` from this folder.

Production defaults for a small host, chosen from ``make bench BENCH_ARGS=--closed-loop``
(docs/operations.md, "Web server settings", has the measurements). Every value can be
overridden on the command line or through the environment variables below; the bind
address stays on the command line.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

from gunicorn.glogging import Logger

from pelubot_web.observability import redact_secret_paths

# PeluBot's requests are CPU-bound Python (slots, JSON) plus short database waits: one
# process per core plus one to cover those waits. Threads add little for CPU-bound
# work under the GIL, but keep a slow client or a slow query from holding the process.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# A closed-loop chatbot reuses its connection: keep it open between requests.
keepalive = 5
# Bounded memory: recycle a worker after many requests (jitter: not all at once).
max_requests = 20000
max_requests_jitter = 2000
# A control socket at a fixed path in $HOME would be shared by every gunicorn of the
# user; PeluBot does not use it.
control_socket_disable = True


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
