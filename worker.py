"""RQ worker entry point: ``python worker.py`` (run as many as you like).

Builds the app once, preloads the task modules, recovers rows of dead workers, then
runs the RQ worker on the calendar-sync and notification queues together with the dispatcher thread
(due rows, lost rows, stale rows, busy-time imports, housekeeping, heartbeat). With
``PELUBOT_WORKER_METRICS_PORT`` set it serves its own Prometheus series there. SIGTERM lets the
running job finish, then exits 0. If Redis goes away the worker waits for it.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from types import FrameType

from redis import Redis
from rq import Queue, SimpleWorker

from pelubot_web import ConfigError, create_app
from pelubot_web.config import current_config
from pelubot_web.extensions import db
from pelubot_web.metrics import serve_worker_metrics
from pelubot_web.observability import configure_logging
from pelubot_web.services.sync_status import forget_worker
from pelubot_web.tasks import calendar, notify, pull  # noqa: F401  (preload before the first job)
from pelubot_web.tasks.dispatcher import (
    DispatcherThread,
    recover_stale_notifications,
    recover_stale_rows,
)
from pelubot_web.tasks.runtime import worker_identity

log = logging.getLogger("pelubot.worker")

# RQ blocks on Redis for up to (worker_ttl - 15) s; the socket timeout must exceed that.
WORKER_TTL_S = 35
SOCKET_TIMEOUT_S = 30


class PeluBotWorker(SimpleWorker):
    """Runs jobs in this process (no fork: the app, engine and gateway are reused).

    Remembers a stop request so the outer loop knows a return from ``work()`` was a
    shutdown rather than a Redis hiccup.
    """

    stop_requested = False

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        PeluBotWorker.stop_requested = True
        super().request_stop(signum, frame)


def _stop_between_runs(signum: int, frame: FrameType | None) -> None:
    PeluBotWorker.stop_requested = True


def main() -> int:
    configure_logging()
    try:
        app = create_app()
    except ConfigError as exc:
        print(f"PeluBot configuration error: {exc}", file=sys.stderr)
        return 1
    cfg = current_config(app)
    name = f"pelubot-{worker_identity()}"
    # A connection without the web's short socket timeout: RQ blocks on BLPOP.
    connection = Redis.from_url(
        cfg.redis_url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=5
    )
    metrics_port = None
    if cfg.worker_metrics_port is not None:
        server = serve_worker_metrics(cfg, cfg.worker_metrics_host, cfg.worker_metrics_port)
        metrics_port = server.server_port
    with app.app_context():
        recovered = recover_stale_rows() + recover_stale_notifications()
        db.session.remove()
        log.info(
            "worker starting",
            extra={
                "worker": name,
                "recovered_rows": recovered,
                "metrics_port": metrics_port,
                "config": cfg.redacted(),
            },
        )
        dispatcher = DispatcherThread(app, name)
        dispatcher.start()
        try:
            while not PeluBotWorker.stop_requested:
                worker = PeluBotWorker(
                    [
                        Queue(cfg.queue_name, connection=connection),
                        Queue(cfg.notify_queue_name, connection=connection),
                    ],
                    connection=connection,
                    name=f"{name}-{int(time.time())}",
                    worker_ttl=WORKER_TTL_S,
                )
                try:
                    worker.work(with_scheduler=False, logging_level="INFO")
                except Exception:
                    log.exception("worker loop crashed; restarting")
                if not PeluBotWorker.stop_requested:
                    # Usually Redis went away: wait a little, then start a fresh worker.
                    signal.signal(signal.SIGTERM, _stop_between_runs)
                    signal.signal(signal.SIGINT, _stop_between_runs)
                    time.sleep(2)
        finally:
            dispatcher.stop()
            dispatcher.join(timeout=10)
            try:
                forget_worker(connection, name)
            except Exception:
                log.warning("could not remove worker heartbeat", exc_info=True)
            log.info("worker stopped", extra={"worker": name})
    return 0


if __name__ == "__main__":
    sys.exit(main())
