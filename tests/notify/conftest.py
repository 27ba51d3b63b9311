"""Notification fixtures: a real SMTP server and a real HTTP receiver in the test process.

Workers are driven in-process with an injected clock (``deliver_due(now)``) except in
``test_worker_processes.py``, which starts real ``worker.py`` processes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import select

from pelubot_web.config import Config
from pelubot_web.extensions import db
from pelubot_web.mail.catcher import CaughtMail, RunningCatcher, run_catcher
from pelubot_web.models import Notification
from pelubot_web.models.notify import NotificationStatus
from pelubot_web.services.accounts import create_api_key
from pelubot_web.tasks.notify import deliver
from tests import factories as f
from tests.conftest import make_config

WORKER = "test-host:1"


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[RunningCatcher]:
    with run_catcher() as running:
        yield running


@pytest.fixture
def mailbox(smtp_server: RunningCatcher) -> RunningCatcher:
    smtp_server.catcher.clear()
    smtp_server.catcher.fail_with = None
    return smtp_server


def notify_overrides(smtp_url: str) -> dict[str, object]:
    return {
        "mail_backend": "smtp",
        "smtp_url": smtp_url,
        "smtp_timeout_s": 5.0,
        "salon_name": "Peluquería Test",
        "salon_address": "Calle Mayor 1, Madrid",
        "reminder_hours": (24,),
        "notify_quiet_hours": "21-9",
        "notify_queue_name": "notifications-test",
        "queue_name": "calendar-sync-test",
        "notify_backoff_base_s": 2.0,
        "notify_backoff_cap_s": 60.0,
        "webhook_timeout_s": 1.0,
        "public_base_url": "http://salon.test",
    }


@pytest.fixture
def config(migrated_database_url: str, smtp_server: RunningCatcher) -> Config:
    return make_config(migrated_database_url, **notify_overrides(smtp_server.smtp_url))


@pytest.fixture
def salon(app: Flask, redis_conn: Redis) -> f.Salon:
    return f.Salon()


@pytest.fixture
def auth(app: Flask) -> dict[str, str]:
    return {"X-API-Key": create_api_key("chatbot", ["booking"]).secret}


def api_book(
    client: FlaskClient,
    auth: dict[str, str],
    salon: f.Salon,
    start: datetime,
    *,
    email: str | None = "ana@example.com",
    phone: str = "+34 600000001",
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "service_id": salon.cut.id,
        "professional_id": salon.bea.id,
        "start": start.isoformat(),
        "customer": {"name": "Ana García", "phone": phone, "email": email},
        **extra,
    }
    response = client.post("/api/v1/reservations", json=body, headers=auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    data: dict[str, Any] = response.get_json()
    return data


def rows(**where: Any) -> list[Notification]:
    db.session.rollback()
    db.session.expire_all()
    query = select(Notification).order_by(Notification.id)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return list(db.session.scalars(query))


def deliver_due(now: datetime) -> dict[int, str]:
    """What the dispatcher and a worker do at ``now``: send every due row once."""
    outcomes = {}
    for row in rows():
        due = row.available_at <= now
        if due and row.status in (NotificationStatus.PENDING, NotificationStatus.QUEUED):
            outcomes[row.id] = deliver(row.id, WORKER, now=now)
    db.session.rollback()
    return outcomes


def subjects(mails: list[CaughtMail]) -> list[str]:
    return [str(m.message["Subject"]) for m in mails]


# --- a real HTTP receiver with faults ---------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class Receiver:
    """Answers each POST with the next scripted reply: a status, or "hang" (no answer
    until the test ends: the client times out)."""

    url: str = ""
    replies: list[int | str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_reply(self, request: Received) -> int | str:
        with self.lock:
            self.received.append(request)
            return self.replies.pop(0) if self.replies else 200


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            reply = receiver.next_reply(Received(dict(self.headers.items()), body))
            if reply == "hang":
                receiver.release.wait(10)
                return
            status = int(reply)
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "http://elsewhere.example/hook")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/pelubot"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()
