"""Signed webhook deliveries to a real HTTP receiver, with its faults."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from pelubot_web.extensions import db
from pelubot_web.models import WebhookEndpoint
from pelubot_web.models.notify import Channel, NotificationKind, NotificationStatus
from pelubot_web.models.types import utcnow
from pelubot_web.services import webhooks
from pelubot_web.services.errors import InvalidInput
from tests import factories as f
from tests.notify.conftest import Receiver, api_book, deliver_due, rows

SECRET = "whsec_test_secret_0123456789"
API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def documented_verifier() -> Callable[..., bool]:
    """The verification snippet exactly as docs/api.md shows it."""
    text = API_DOC.read_text()
    match = re.search(
        r"<!-- webhook-verify-snippet -->\s*```python\n(.*?)```\s*<!-- /webhook-verify-snippet -->",
        text,
        re.S,
    )
    assert match, "docs/api.md must carry the verification snippet"
    namespace: dict[str, Any] = {}
    exec(match.group(1), namespace)
    verifier: Callable[..., bool] = namespace["verify_pelubot_signature"]
    return verifier


def _webhook_rows() -> list[Any]:
    return rows(channel=Channel.WEBHOOK, kind=NotificationKind.CONFIRMATION)


def test_a_delivery_verifies_with_the_documented_snippet(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, receiver: Receiver
) -> None:
    webhooks.add_endpoint(receiver.url, SECRET)
    booked = api_book(client, auth, salon, f.local(f.next_weekday(0), 10), email=None)
    now = utcnow()
    deliver_due(now)
    (request,) = receiver.received
    assert request.headers["PeluBot-Event"] == "reservation.created"
    assert request.json["type"] == "reservation.created"
    assert request.json["data"]["reservation"]["id"] == booked["id"]
    assert request.json["data"]["reservation"]["customer"]["phone"] == "+34600000001"
    verify = documented_verifier()
    header = request.headers["PeluBot-Signature"]
    assert verify(request.body, header, SECRET, now=now.timestamp())
    assert not verify(request.body + b" ", header, SECRET, now=now.timestamp())
    assert not verify(request.body, header, "another-secret-000000", now=now.timestamp())
    assert not verify(request.body, header, SECRET, now=now.timestamp() + 3600)


def test_a_500_is_retried_with_the_same_event_id_and_delivered_once(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, receiver: Receiver
) -> None:
    webhooks.add_endpoint(receiver.url, SECRET, ["reservation.created"])
    receiver.replies = [500]
    api_book(client, auth, salon, f.local(f.next_weekday(0), 10), email=None)
    assert set(deliver_due(utcnow()).values()) == {"retry"}
    (row,) = _webhook_rows()
    assert row.status == NotificationStatus.PENDING
    assert row.last_error == "HTTP 500"
    retry_at = row.available_at
    assert set(deliver_due(retry_at).values()) == {"sent"}
    deliver_due(retry_at + timedelta(hours=1))
    first, second = receiver.received
    assert first.body == second.body
    assert first.json["id"] == second.json["id"] == row.event_id
    (row,) = _webhook_rows()
    assert row.status == NotificationStatus.SENT
    assert row.attempts == 2


def test_a_410_disables_the_endpoint(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, receiver: Receiver
) -> None:
    endpoint_id = webhooks.add_endpoint(receiver.url, SECRET).id
    receiver.replies = [410]
    api_book(client, auth, salon, f.local(f.next_weekday(0), 10), email=None)
    assert set(deliver_due(utcnow()).values()) == {"failed"}
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    assert endpoint is not None
    assert endpoint.active is False
    assert "410" in (endpoint.disabled_reason or "")
    api_book(client, auth, salon, f.local(f.next_weekday(1), 10), email=None, phone="+34600000002")
    assert len(_webhook_rows()) == 1  # nothing more goes to a disabled endpoint


@pytest.mark.parametrize(
    ("fault", "error"),
    [(503, "HTTP 503"), (302, "redirects are not followed"), ("hang", "timed out")],
)
def test_faults_are_retried_later(
    client: FlaskClient,
    auth: dict[str, str],
    salon: f.Salon,
    receiver: Receiver,
    fault: int | str,
    error: str,
) -> None:
    webhooks.add_endpoint(receiver.url, SECRET)
    receiver.replies = [fault]
    api_book(client, auth, salon, f.local(f.next_weekday(0), 10), email=None)
    assert set(deliver_due(utcnow()).values()) == {"retry"}
    (row,) = _webhook_rows()
    assert row.status == NotificationStatus.PENDING
    assert error in (row.last_error or "")
    assert len(receiver.received) == 1  # the redirect was not followed


def test_connection_refused_is_retried_until_the_budget_is_spent(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, receiver: Receiver
) -> None:
    client.application.extensions["pelubot_config"] = client.application.extensions[
        "pelubot_config"
    ].replace(notify_max_attempts=2)
    closed_port_url = "http://127.0.0.1:9/hook"  # discard port: nothing listens there
    webhooks.add_endpoint(closed_port_url, SECRET)
    api_book(client, auth, salon, f.local(f.next_weekday(0), 10), email=None)
    assert set(deliver_due(utcnow()).values()) == {"retry"}
    (row,) = _webhook_rows()
    assert "connection error" in (row.last_error or "")
    assert set(deliver_due(row.available_at).values()) == {"failed"}
    (row,) = _webhook_rows()
    assert row.status == NotificationStatus.FAILED
    assert row.attempts == 2


def test_endpoints_filter_events_and_staff_changes_reach_them(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, receiver: Receiver
) -> None:
    webhooks.add_endpoint(receiver.url, SECRET, ["reservation.cancelled"])
    booked = api_book(client, auth, salon, f.local(f.next_weekday(0), 10), email=None)
    client.post(f"/api/v1/reservations/{booked['id']}/cancel", headers=auth)
    deliver_due(utcnow())
    assert [r.headers["PeluBot-Event"] for r in receiver.received] == ["reservation.cancelled"]
    assert receiver.received[0].json["data"]["reservation"]["status"] == "cancelled"


def test_bad_endpoints_are_refused(app: Flask) -> None:
    with pytest.raises(InvalidInput, match="http:// or https://"):
        webhooks.add_endpoint("ftp://example.com/x", SECRET)
    with pytest.raises(InvalidInput, match="unknown event type"):
        webhooks.add_endpoint("https://example.com/x", SECRET, ["reservation.exploded"])
