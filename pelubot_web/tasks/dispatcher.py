"""The periodic dispatcher that runs inside every worker process.

Each cycle (every ``PELUBOT_SYNC_POLL_INTERVAL_S``):
1. resets ``processing`` rows whose worker is gone (heartbeat older than
   ``max(poll * 2, 60 s)``, or owner process dead on this host) — also at start;
2. enqueues due ``pending`` rows (new, retry time reached, or left by a Redis outage);
3. re-enqueues ``queued`` rows whose RQ job Redis lost;
4. schedules the busy-time import of every stylist calendar once per pull interval
   (±25% jitter, so many salons' workers do not hit Google in lockstep), and with it
   the housekeeping: expired idempotency records, succeeded outbox rows older than
   ``PELUBOT_OUTBOX_RETENTION_DAYS``, busy blocks that ended and pull state of stylists
   without a calendar, each in small batches;
5. records this worker's heartbeat (read by /ready and the ops dashboard) and the
   liveness gauge of its own metrics endpoint;
6. does 1-3 for the notification outbox too (due reminders are enqueued here: no job
   ever sleeps until a reminder's time).
Steps 1-3 are the same mechanics for both outboxes (``services/outbox.py``), reached
through the module owning each one. Running it in N workers at once is safe: every step
is conditional or idempotent.
"""

from __future__ import annotations

import logging
import random
import threading
import time

from flask import Flask
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import select

from pelubot_web.config import current_config
from pelubot_web.extensions import db
from pelubot_web.metrics import WORKER_LAST_CYCLE
from pelubot_web.models import Stylist
from pelubot_web.redis_client import get_redis
from pelubot_web.services import calendar_outbox, housekeeping, idempotency, notifications
from pelubot_web.services.outbox_sweeps import rq_job_alive
from pelubot_web.services.sync_status import record_worker_heartbeat
from pelubot_web.tasks.runtime import owner_is_dead_here

log = logging.getLogger(__name__)

PULL_TASK = "pelubot_web.tasks.pull.pull_stylist_calendar"
PULL_LOCK_KEY = "pelubot:pull-schedule-lock"
PULL_JITTER = 0.25


def recover_stale_rows() -> int:
    """Give rows of dead workers back to the queue (or fail them if out of attempts)."""
    return calendar_outbox.recover_stale_rows(owner_gone=owner_is_dead_here)


def enqueue_due_rows() -> int:
    """Push due pending rows, and queued rows whose RQ job no longer exists."""
    return calendar_outbox.enqueue_due()


def recover_stale_notifications() -> int:
    """Notification rows claimed by a dead worker go back to pending (or fail)."""
    return notifications.recover_stale(owner_gone=owner_is_dead_here)


def enqueue_due_notifications() -> int:
    """Push due notification rows (reminders whose time came, retries, rows a Redis
    outage left behind) and re-push queued rows whose RQ job Redis lost."""
    return notifications.enqueue_due()


def schedule_pulls() -> int:
    """Enqueue one busy-import per stylist calendar, at most once per pull interval."""
    cfg = current_config()
    redis = get_redis()
    jitter = random.uniform(1 - PULL_JITTER, 1 + PULL_JITTER)
    lock_ms = max(100, int(cfg.pull_interval_s * 1000 * jitter))
    if not redis.set(PULL_LOCK_KEY, "1", nx=True, px=lock_ms):
        return 0
    # Housekeeping rides on the same once-per-interval lock.
    purged = idempotency.purge_expired()
    if purged:
        log.info("expired idempotency records purged", extra={"count": purged})
    pruned = housekeeping.prune(cfg.outbox_retention_days)
    if any(pruned.values()):
        log.info("old sync rows pruned", extra=pruned)
    stylist_ids = db.session.scalars(
        select(Stylist.id).where(Stylist.active.is_(True), Stylist.calendar_id.is_not(None))
    ).all()
    db.session.commit()
    queue = Queue(cfg.queue_name, connection=redis)
    scheduled = 0
    for stylist_id in stylist_ids:
        job_id = f"pull-{stylist_id}"
        if rq_job_alive(redis, job_id):
            continue  # the previous import of this calendar has not run yet: no pile-up
        queue.enqueue(
            PULL_TASK,
            stylist_id,
            job_id=job_id,
            result_ttl=600,
            failure_ttl=24 * 3600,
            job_timeout=300,
        )
        scheduled += 1
    return scheduled


def dispatch_once(worker_name: str) -> dict[str, int]:
    """One dispatcher cycle. Database errors propagate; Redis errors end the cycle early."""
    summary = {
        "recovered": recover_stale_rows(),
        "notifications_recovered": recover_stale_notifications(),
        "enqueued": 0,
        "notifications_enqueued": 0,
        "pulls": 0,
    }
    try:
        record_worker_heartbeat(get_redis(), worker_name)
        summary["enqueued"] = enqueue_due_rows()
        summary["notifications_enqueued"] = enqueue_due_notifications()
        summary["pulls"] = schedule_pulls()
    except (RedisError, OSError) as exc:
        log.warning("dispatcher cannot reach Redis; will retry", extra={"error": str(exc)})
    finally:
        db.session.remove()
    return summary


class DispatcherThread(threading.Thread):
    """Runs ``dispatch_once`` every poll interval until stopped."""

    def __init__(self, app: Flask, worker_name: str) -> None:
        super().__init__(name="pelubot-dispatcher", daemon=True)
        self._app = app
        self._worker_name = worker_name
        self._stop_event = threading.Event()
        self.interval_s = current_config(app).sync_poll_interval_s

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        with self._app.app_context():
            while not self._stop_event.is_set():
                try:
                    summary = dispatch_once(self._worker_name)
                    WORKER_LAST_CYCLE.set(time.time())
                    if any(summary.values()):
                        log.info("dispatcher cycle", extra=summary)
                except Exception:  # keep the loop alive; the error is logged
                    log.exception("dispatcher cycle failed")
                    db.session.remove()
                self._stop_event.wait(self.interval_s)
