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


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from /metrics (prometheus multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
