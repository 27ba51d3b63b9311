"""What operators and staff see: ops view, admin webhooks, CLI, portal history, metrics."""

from __future__ import annotations

from flask.testing import FlaskClient, FlaskCliRunner

from pelubot_web.extensions import db
from pelubot_web.mail.catcher import RunningCatcher
from pelubot_web.models import WebhookEndpoint
from pelubot_web.models.notify import Channel, NotificationKind, NotificationStatus
from pelubot_web.models.types import utcnow
from pelubot_web.services import accounts, webhooks
from tests import factories as f
from tests.notify.conftest import api_book, deliver_due, rows
from tests.web.conftest import PASSWORD, login, post

SECRET = "whsec_ops_views_0123456789"


def _failed_email(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, mailbox: RunningCatcher
) -> dict[str, object]:
    mailbox.catcher.fail_with = "550 5.1.1 mailbox unavailable"
    booked = api_book(client, auth, salon, f.local(f.next_weekday(0), 10))
    deliver_due(utcnow())
    mailbox.catcher.fail_with = None
    return booked


def test_ops_view_counts_shows_the_error_and_retries(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, mailbox: RunningCatcher
) -> None:
    _failed_email(client, auth, salon, mailbox)
    accounts.create_user("ops@salon.test", PASSWORD, "ops")
    login(client, "ops@salon.test")
    page = client.get("/admin/notifications/?status=failed").get_data(as_text=True)
    assert "SMTP 550: 5.1.1 mailbox unavailable" in page
    assert client.get("/admin/notifications/?status=exploded").status_code == 400
    (failed,) = rows(status=NotificationStatus.FAILED)
    response = post(client, f"/admin/notifications/{failed.id}/retry")
    assert response.status_code == 303
    (row,) = rows(kind=NotificationKind.CONFIRMATION)
    assert row.status in (NotificationStatus.PENDING, NotificationStatus.QUEUED)
    assert row.attempts == 0
    deliver_due(utcnow())
    assert len(mailbox.catcher.received()) == 1


def test_only_admins_manage_webhooks(client: FlaskClient, salon: f.Salon) -> None:
    accounts.create_user("admin@salon.test", PASSWORD, "admin")
    accounts.create_user("ops@salon.test", PASSWORD, "ops")
    assert client.get("/admin/webhooks").status_code in (302, 303)
    login(client, "ops@salon.test")
    assert client.get("/admin/webhooks").status_code == 403
    client = client.application.test_client()
    login(client, "admin@salon.test")
    bad = post(client, "/admin/webhooks", {"url": "ftp://x", "secret": SECRET})
    assert bad.status_code == 422
    ok = post(
        client,
        "/admin/webhooks",
        {"url": "https://bot.example/hook", "secret": SECRET, "events": ["reservation.reminder"]},
    )
    assert ok.status_code == 303, ok.get_data(as_text=True)
    (endpoint,) = webhooks.list_endpoints()
    assert endpoint.events == ["reservation.reminder"]
    assert "https://bot.example/hook" in client.get("/admin/webhooks").get_data(as_text=True)
    post(client, f"/admin/webhooks/{endpoint.id}/disable")
    db.session.rollback()
    assert db.session.get(WebhookEndpoint, endpoint.id).active is False  # type: ignore[union-attr]
    assert post(client, f"/admin/webhooks/{endpoint.id}/remove").status_code == 303
    db.session.rollback()
    assert webhooks.list_endpoints() == []


def test_cli_manages_webhooks_and_notifications(
    runner: FlaskCliRunner,
    client: FlaskClient,
    auth: dict[str, str],
    salon: f.Salon,
    mailbox: RunningCatcher,
) -> None:
    added = runner.invoke(
        args=["webhooks", "add", "--url", "https://bot.example/h", "--secret", SECRET]
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(args=["webhooks", "list"])
    assert "https://bot.example/h [all events] active" in listed.output
    bad = runner.invoke(args=["webhooks", "add", "--url", "nope"])
    assert bad.exit_code != 0
    assert "http://" in bad.output
    endpoint_id = webhooks.list_endpoints()[0].id
    assert runner.invoke(args=["webhooks", "remove", str(endpoint_id)]).exit_code == 0
    assert runner.invoke(args=["webhooks", "remove", str(endpoint_id)]).exit_code != 0
    _failed_email(client, auth, salon, mailbox)
    status = runner.invoke(args=["notify", "status"])
    assert "failed      1" in status.output
    assert "SMTP 550: 5.1.1 mailbox unavailable" in status.output
    retried = runner.invoke(args=["notify", "retry-failed"])
    assert "Re-queued 1 failed notification(s)." in retried.output


def test_portal_reservation_page_shows_what_was_sent(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, mailbox: RunningCatcher
) -> None:
    webhooks.add_endpoint("http://127.0.0.1:9/unused", SECRET, ["reservation.reminder"])
    booked = api_book(client, auth, salon, f.local(f.next_weekday(0), 10))
    deliver_due(utcnow())
    accounts.create_user("admin@salon.test", PASSWORD, "admin")
    login(client, "admin@salon.test")
    page = client.get(f"/pro/reservations/{booked['id']}").get_data(as_text=True)
    assert "Mensajes al cliente" in page
    assert "Confirmación" in page
    assert "enviado" in page
    assert "Recordatorio" in page
    assert "pendiente" in page
    assert len(rows(channel=Channel.WEBHOOK)) == 1


def test_customer_page_shows_what_was_sent_to_them(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, mailbox: RunningCatcher
) -> None:
    api_book(client, auth, salon, f.local(f.next_weekday(0), 10))
    deliver_due(utcnow())
    (confirmation,) = rows(kind=NotificationKind.CONFIRMATION)
    accounts.create_user("desk@salon.test", PASSWORD, "reception")
    login(client, "desk@salon.test")
    page = client.get(f"/customers/{confirmation.reservation.customer_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    notifications = html[html.index('id="notifications"') :]
    assert "Confirmación" in notifications
    assert "enviado" in notifications
    assert "Recordatorio" in notifications


def test_metrics_count_notifications(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, mailbox: RunningCatcher
) -> None:
    def sent_total() -> float:
        text = client.get("/metrics").get_data(as_text=True)
        prefix = 'pelubot_notifications_total{channel="email",kind="confirmation",outcome="sent"}'
        lines = [line for line in text.splitlines() if line.startswith(prefix)]
        return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0

    before = sent_total()
    api_book(client, auth, salon, f.local(f.next_weekday(0), 10))
    deliver_due(utcnow())
    assert sent_total() == before + 1
    assert "pelubot_notification_delivery_lag_seconds_bucket" in client.get("/metrics").get_data(
        as_text=True
    )


def test_endpoint_model_defaults_to_all_events() -> None:
    endpoint = WebhookEndpoint(url="https://x", secret=SECRET, event_types="")
    assert endpoint.wants("reservation.created")
    assert endpoint.wants("reservation.reminder")
