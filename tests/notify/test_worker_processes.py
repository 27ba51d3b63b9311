"""Real ``python worker.py`` processes sending to the SMTP server and HTTP receiver
running in this test process."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from pelubot_web import create_app
from pelubot_web.config import Config
from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.mail.catcher import RunningCatcher
from pelubot_web.models import Notification, Reservation, Service, Stylist
from pelubot_web.models.notify import NotificationKind, NotificationStatus
from pelubot_web.services import notifications, webhooks
from tests import factories as f
from tests.notify.conftest import Receiver
from tests.sync.conftest import WorkerProcess, wait_until, worker_env, worker_starter

pytestmark = pytest.mark.slow

StartWorker = Callable[..., WorkerProcess]


def _worker_env(config: Config) -> dict[str, str]:
    env = worker_env(config)
    env.update(
        {
            "PELUBOT_SYNC_POLL_INTERVAL_S": "0.2",
            "PELUBOT_NOTIFY_QUEUE_NAME": config.notify_queue_name,
            "PELUBOT_MAIL_BACKEND": "smtp",
            "PELUBOT_SMTP_URL": config.smtp_url or "",
            "PELUBOT_PUBLIC_BASE_URL": config.public_base_url,
            "PELUBOT_SALON_NAME": config.salon_name,
        }
    )
    return env


@pytest.fixture
def start_worker(config: Config, tmp_path: Path) -> Iterator[StartWorker]:
    with worker_starter(lambda: _worker_env(config), tmp_path) as start:
        yield start


def _book(salon_ids: tuple[int, int], n: int) -> Reservation:
    """A booking with an email, committed with its notification rows (as the service does)."""
    begin_write()
    stylist, service = db.session.get(Stylist, salon_ids[0]), db.session.get(Service, salon_ids[1])
    assert stylist is not None
    assert service is not None
    start = f.local(f.next_weekday(0), 9) + timedelta(days=n // 20, minutes=30 * (n % 20))
    customer = f.customer(email=f"cliente{n}@example.com")
    reservation = f.reservation(stylist, service, start, customer_obj=customer)
    notifications.record_change(reservation, NotificationKind.CONFIRMATION)
    db.session.commit()
    return reservation


def _confirmations() -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.kind == NotificationKind.CONFIRMATION)
        )
    )


def _all_sent(expected: int) -> Callable[[], bool]:
    def check() -> bool:
        rows = _confirmations()
        return len(rows) == expected and all(r.status == NotificationStatus.SENT for r in rows)

    return check


def _dead_redis_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # nothing listens there any more


def test_bookings_while_redis_is_down_are_emailed_later(
    config: Config,
    salon: f.Salon,
    mailbox: RunningCatcher,
    start_worker: StartWorker,
) -> None:
    ids = (salon.bea.id, salon.cut.id)
    app = create_app(config.replace(redis_url=_dead_redis_url()))
    with app.app_context():
        made = [_book(ids, n) for n in range(3)]
        db.session.rollback()
        assert {r.status for r in _confirmations()} == {NotificationStatus.PENDING}
        db.session.remove()
    start_worker()  # the worker has Redis: its dispatcher enqueues what was left behind
    wait_until(_all_sent(len(made)), timeout=60, what="emails sent after the outage")
    recipients = sorted(m.recipients[0] for m in mailbox.catcher.received())
    assert recipients == [f"cliente{n}@example.com" for n in range(3)]


def test_two_workers_send_each_notification_once(
    app: Flask,
    salon: f.Salon,
    mailbox: RunningCatcher,
    receiver: Receiver,
    start_worker: StartWorker,
) -> None:
    webhooks.add_endpoint(receiver.url, "whsec_two_workers_0123456789")
    count = 40
    for n in range(count):
        _book((salon.bea.id, salon.cut.id), n)
    workers = [start_worker(), start_worker()]
    wait_until(_all_sent(count * 2), timeout=120, what="every email and webhook sent")
    rows = _confirmations()
    assert {r.attempts for r in rows} == {1}, "each row was claimed once"
    mails = mailbox.catcher.received()
    assert len(mails) == count
    assert len({m.recipients[0] for m in mails}) == count
    event_ids = [r.json["id"] for r in receiver.received]
    assert len(event_ids) == count
    assert len(set(event_ids)) == count
    sent_by = [w.log().count('"msg": "notification sent"') for w in workers]
    assert sum(sent_by) == count * 2
    assert all(n > 0 for n in sent_by), sent_by
