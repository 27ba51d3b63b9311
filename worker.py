"""RQ worker entry point: ``python worker.py``.

Builds the app once, preloads the task modules, then works the calendar-sync queue.
"""

from __future__ import annotations

import logging
import sys

from rq import Queue, Worker

from pelubot_web import ConfigError, create_app
from pelubot_web.observability import configure_logging
from pelubot_web.redis_client import get_redis

log = logging.getLogger("pelubot.worker")


def main() -> int:
    configure_logging()
    try:
        app = create_app()
    except ConfigError as exc:
        print(f"PeluBot configuration error: {exc}", file=sys.stderr)
        return 1
    cfg = app.extensions["pelubot_config"]
    connection = get_redis(app)
    queue = Queue(cfg.queue_name, connection=connection)
    with app.app_context():
        log.info("worker waiting for tasks", extra={"queue": cfg.queue_name})
        Worker([queue], connection=connection).work(with_scheduler=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
