"""The shared outbox mechanics (``services/outbox.py``) as the notification outbox uses
them: enqueue after commit, dead workers' rows, rows Redis lost, its own backoff.

tests/sync/test_outbox_and_task.py covers the same paths for the calendar outbox.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from pelubot_web.config import Config, current_config
from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.models import Notification, Reservation
from pelubot_web.models.notify import NotificationKind, NotificationStatus
from pelubot_web.models.types import utcnow
from pelubot_web.services import notifications, outbox
from pelubot_web.tasks.dispatcher import enqueue_due_notifications, recover_stale_notifications
from pelubot_web.tasks.runtime import worker_identity
from tests import factories as f
from tests.factories import stored
from tests.notify.conftest import rows

QUEUE = "notifications-test"


def _booking(salon: f.Salon, hour: int) -> Reservation:
    """A booking with an email, its notification rows recorded in the same transaction."""
    begin_write()
    customer = f.customer(email=f"cliente{hour}@example.com")
    start = f.local(f.next_weekday(1), hour)
    reservation = f.reservation(salon.bea, salon.cut, start, customer_obj=customer)
    notifications.record_change(reservation, NotificationKind.CONFIRMATION)
    return reservation


def _commit(reservation: Reservation) -> Reservation:
    db.session.commit()
    return reservation


def _confirmation(reservation: Reservation) -> Notification:
    (row,) = rows(reservation_id=reservation.id, kind=NotificationKind.CONFIRMATION)
    return row


def test_due_rows_are_enqueued_after_commit_and_forgotten_on_rollback(
    app: Flask, salon: f.Salon, redis_conn: Redis
) -> None:
    _booking(salon, 10)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert Queue(QUEUE, connection=redis_conn).count == 0

    row = _confirmation(_commit(_booking(salon, 11)))
    assert row.status == NotificationStatus.QUEUED
    assert row.enqueued_at is not None
    assert Queue(QUEUE, connection=redis_conn).job_ids == [f"notify-{row.id}-a0"]


def test_rows_of_dead_workers_are_recovered(app: Flask, salon: f.Salon, redis_conn: Redis) -> None:
    stale, dead_here, alive, spent = (
        _confirmation(_commit(_booking(salon, hour))) for hour in (10, 11, 12, 13)
    )
    long_ago = utcnow() - timedelta(minutes=5)
    stale.status, stale.locked_by, stale.heartbeat_at = "processing", "other-host:1", long_ago
    # A pid that cannot exist on this host (pid_max is far below it).
    here = worker_identity().split(":")[0]
    dead_here.status, dead_here.locked_by = "processing", f"{here}:99999999"
    dead_here.heartbeat_at = utcnow()
    alive.status, alive.locked_by, alive.heartbeat_at = "processing", worker_identity(), utcnow()
    spent.status, spent.locked_by, spent.heartbeat_at = "processing", "other-host:1", long_ago
    spent.attempts = spent.max_attempts
    db.session.commit()

    assert recover_stale_notifications() == 3
    db.session.rollback()
    for row, worker in ((stale, "other-host:1"), (dead_here, f"{here}:99999999")):
        recovered = stored(Notification, row.id)
        assert recovered.status == NotificationStatus.PENDING
        assert recovered.locked_by is None
        assert recovered.last_error == f"worker {worker} stopped while sending"
    assert stored(Notification, alive.id).status == NotificationStatus.PROCESSING
    failed = stored(Notification, spent.id)
    assert failed.status == NotificationStatus.FAILED
    assert failed.finished_at is not None
    # The dispatcher's next step hands the recovered rows to RQ again.
    assert enqueue_due_notifications() == 2


def test_dispatcher_re_enqueues_notifications_redis_lost(
    app: Flask, salon: f.Salon, redis_conn: Redis
) -> None:
    row = _confirmation(_commit(_booking(salon, 10)))
    assert row.status == NotificationStatus.QUEUED

    def queued_a_while_ago() -> None:
        stored(Notification, row.id).enqueued_at = utcnow() - timedelta(minutes=1)
        db.session.commit()

    queued_a_while_ago()
    redis_conn.flushdb()  # Redis lost everything
    assert enqueue_due_notifications() == 1
    queue = Queue(QUEUE, connection=redis_conn)
    assert queue.job_ids == [f"notify-{row.id}-a0"]
    assert stored(Notification, row.id).status == NotificationStatus.QUEUED
    # A row whose job is still in Redis is left alone, however long it has waited.
    queued_a_while_ago()
    assert enqueue_due_notifications() == 0
    assert queue.job_ids == [f"notify-{row.id}-a0"]


def test_notification_backoff_has_its_own_settings(app: Flask) -> None:
    cfg = current_config()
    assert (cfg.notify_backoff_base_s, cfg.notify_backoff_cap_s) == (2.0, 60.0)
    now = utcnow()
    for attempt in range(1, 12):
        delay = outbox.retry_at(notifications.SPEC, now, attempt) - now
        assert timedelta(0) <= delay <= timedelta(seconds=cfg.notify_backoff_cap_s)
    env = {"PELUBOT_NOTIFY_BACKOFF_BASE_S": "5", "PELUBOT_NOTIFY_BACKOFF_CAP_S": "120"}
    parsed = Config.from_env({"PELUBOT_ENV": "test", **env})
    assert (parsed.notify_backoff_base_s, parsed.notify_backoff_cap_s) == (5.0, 120.0)
    assert (parsed.sync_backoff_base_s, parsed.sync_backoff_cap_s) == (2.0, 300.0)
    assert Config().notify_backoff_base_s == 2.0
    assert Config().notify_backoff_cap_s == 300.0
