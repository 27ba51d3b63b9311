"""Customer emails end to end: booking -> outbox row -> worker -> a real SMTP server.

The worker step runs in-process with an injected clock (``deliver_due(now)``), so a
reminder a week away is sent "at its time" without waiting.
"""

from __future__ import annotations

import re
import urllib.request
from datetime import timedelta

from flask.testing import FlaskClient

from pelubot_web.mail.catcher import CaughtMail, RunningCatcher
from pelubot_web.models.notify import Channel, NotificationKind, NotificationStatus
from pelubot_web.models.types import utcnow
from tests import factories as f
from tests.notify.conftest import api_book, deliver_due, rows, subjects
from tests.web.conftest import csrf_token

LINK_RE = re.compile(r"http://salon\.test(/book/manage/[A-Za-z0-9_-]{40,})")


def _text(mail: CaughtMail) -> str:
    body = mail.message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def _ics(mail: CaughtMail) -> str:
    parts = [p for p in mail.message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, "exactly one .ics attachment"
    return str(parts[0].get_content())


def _assert_manage_link_works(client: FlaskClient, mail: CaughtMail, reservation_id: str) -> None:
    match = LINK_RE.search(_text(mail))
    assert match, _text(mail)
    page = client.get(match.group(1))
    assert page.status_code == 200
    html = mail.message.get_body(preferencelist=("html",))
    assert html is not None
    assert match.group(1) in str(html.get_content())
    assert rows(kind=NotificationKind.CONFIRMATION)[0].reservation.uuid == reservation_id


def test_api_booking_gets_a_confirmation_with_manage_link_and_ics(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, mailbox: RunningCatcher
) -> None:
    start = f.local(f.next_weekday(0), 10)
    booked = api_book(client, auth, salon, start)
    deliver_due(utcnow())
    (mail,) = mailbox.catcher.received()
    assert mail.recipients == ["ana@example.com"]
    assert mail.message["Subject"] == "Tu cita en Peluquería Test está confirmada"
    assert "Corte" in _text(mail)
    assert "Bea" in _text(mail)
    assert "Calle Mayor 1" in _text(mail)
    ics = _ics(mail)
    assert f"UID:{booked['id']}@pelubot" in ics
    assert f"DTSTART:{f.utc(start):%Y%m%dT%H%M%SZ}" in ics
    assert "List-Unsubscribe" not in mail.message  # a confirmation the customer asked for
    _assert_manage_link_works(client, mail, booked["id"])
    (row,) = rows(kind=NotificationKind.CONFIRMATION)
    assert row.status == NotificationStatus.SENT
    assert row.attempts == 1
    # The catcher's page (what `make run` shows) lists it.
    with urllib.request.urlopen(mailbox.http_url + "/", timeout=5) as page:
        assert "Tu cita en Peluquería Test está confirmada" in page.read().decode()


def test_booking_page_booking_in_english_gets_an_english_confirmation(
    client: FlaskClient, salon: f.Salon, mailbox: RunningCatcher
) -> None:
    start = f.local(f.next_weekday(0), 11)
    data = {
        "csrf_token": csrf_token(client),
        "service": str(salon.cut.id),
        "stylist": str(salon.bea.id),
        "day": start.date().isoformat(),
        "slot": f"{salon.bea.id}|{start.isoformat()}",
        "name": "Ann Smith",
        "phone": "612 345 678",
        "email": "ann@example.com",
        "notes": "",
        "website": "",
    }
    response = client.post("/book/?lang=en", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    deliver_due(utcnow())
    (mail,) = mailbox.catcher.received()
    assert mail.message["Subject"] == "Your appointment at Peluquería Test is confirmed"
    assert "Your appointment is confirmed." in _text(mail)
    assert "DTSTART:" in _ics(mail)
    (row,) = rows(kind=NotificationKind.CONFIRMATION)
    # The link from the booking page and the one in the email both open the booking.
    assert client.get(response.headers["Location"]).status_code == 200
    _assert_manage_link_works(client, mail, row.reservation.uuid)


def test_no_email_without_an_address(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, mailbox: RunningCatcher
) -> None:
    api_book(client, auth, salon, f.local(f.next_weekday(0), 10), email=None)
    assert rows(channel=Channel.EMAIL) == []
    deliver_due(utcnow() + timedelta(days=30))
    assert mailbox.catcher.received() == []


def test_reminder_is_sent_once_at_its_time(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, mailbox: RunningCatcher
) -> None:
    start = f.local(f.next_weekday(0), 10)
    api_book(client, auth, salon, start)
    (reminder,) = rows(kind=NotificationKind.REMINDER)
    assert reminder.due_at == f.utc(start) - timedelta(hours=24)
    deliver_due(utcnow())  # the confirmation
    deliver_due(reminder.due_at - timedelta(minutes=1))
    assert subjects(mailbox.catcher.received()) == ["Tu cita en Peluquería Test está confirmada"]
    deliver_due(reminder.due_at)
    deliver_due(reminder.due_at + timedelta(hours=1))
    mails = mailbox.catcher.received()
    assert subjects(mails)[1:] == ["Recordatorio: tu cita en Peluquería Test"]
    assert mails[1].message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    (reminder,) = rows(kind=NotificationKind.REMINDER)
    assert reminder.status == NotificationStatus.SENT
    assert reminder.attempts == 1


def test_no_reminder_after_cancel(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, mailbox: RunningCatcher
) -> None:
    start = f.local(f.next_weekday(0), 10)
    booked = api_book(client, auth, salon, start)
    deliver_due(utcnow())
    response = client.post(f"/api/v1/reservations/{booked['id']}/cancel", headers=auth)
    assert response.status_code == 200
    deliver_due(utcnow())
    deliver_due(f.utc(start) - timedelta(hours=1))
    assert subjects(mailbox.catcher.received()) == [
        "Tu cita en Peluquería Test está confirmada",
        "Tu cita en Peluquería Test ha sido cancelada",
    ]
    (reminder,) = rows(kind=NotificationKind.REMINDER)
    assert reminder.status == NotificationStatus.SKIPPED


def test_reschedule_moves_the_reminder(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, mailbox: RunningCatcher
) -> None:
    old = f.local(f.next_weekday(0), 10)
    new = f.local(f.next_weekday(1), 12)
    booked = api_book(client, auth, salon, old)
    response = client.patch(
        f"/api/v1/reservations/{booked['id']}", json={"start": new.isoformat()}, headers=auth
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    old_reminder, new_reminder = rows(kind=NotificationKind.REMINDER)
    assert old_reminder.status == NotificationStatus.SKIPPED
    assert new_reminder.due_at == f.utc(new) - timedelta(hours=24)
    deliver_due(utcnow())
    deliver_due(f.utc(old) - timedelta(hours=24))
    assert len(mailbox.catcher.received()) == 2  # confirmation + "moved" notice
    deliver_due(new_reminder.due_at)
    mails = mailbox.catcher.received()
    assert subjects(mails) == [
        "Tu cita en Peluquería Test está confirmada",
        "Tu cita en Peluquería Test ha cambiado",
        "Recordatorio: tu cita en Peluquería Test",
    ]
    assert "12:00" in _text(mails[2])


def test_a_reminder_due_in_quiet_hours_waits_for_the_morning(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, mailbox: RunningCatcher
) -> None:
    # 10:00 with reminders 24 h and 3 h before: the 3 h one (07:00) falls in 21-9.
    monday = f.next_weekday(0)
    app_config = client.application.extensions["pelubot_config"]
    client.application.extensions["pelubot_config"] = app_config.replace(reminder_hours=(24, 3))
    api_book(client, auth, salon, f.local(monday, 10))
    due = sorted(r.due_at for r in rows(kind=NotificationKind.REMINDER))
    assert due == [f.utc(f.local(monday, 10)) - timedelta(hours=24), f.utc(f.local(monday, 9))]
    deliver_due(utcnow())
    deliver_due(f.utc(f.local(monday, 8, 59)))
    assert len(mailbox.catcher.received()) == 2  # confirmation + the 24 h reminder
    deliver_due(f.utc(f.local(monday, 9)))
    assert len(mailbox.catcher.received()) == 3


def test_unsubscribe_stops_reminders(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, mailbox: RunningCatcher
) -> None:
    first = f.local(f.next_weekday(0), 10)
    second = f.local(f.next_weekday(1), 10)
    api_book(client, auth, salon, first)
    api_book(client, auth, salon, second)
    deliver_due(utcnow())  # both confirmations
    deliver_due(f.utc(first) - timedelta(hours=24))
    reminder = mailbox.catcher.received()[-1]
    header = str(reminder.message["List-Unsubscribe"])
    assert header.startswith("<http://salon.test/book/unsubscribe/")
    path = header.strip("<>").removeprefix("http://salon.test")
    assert path in _text(reminder)
    # RFC 8058 one-click: a POST with this exact body and no cookie or CSRF token.
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    second_reminder = rows(kind=NotificationKind.REMINDER)[-1]
    assert second_reminder.status == NotificationStatus.SKIPPED
    sent_before = len(mailbox.catcher.received())
    deliver_due(f.utc(second) - timedelta(hours=1))
    assert len(mailbox.catcher.received()) == sent_before
    assert rows(kind=NotificationKind.REMINDER)[-1].reservation.customer.email_opt_out_at
    # A new booking still gets its confirmation, and no reminder row at all.
    third = api_book(client, auth, salon, f.local(f.next_weekday(2), 10))
    email_rows = [r for r in rows(channel=Channel.EMAIL) if r.reservation.uuid == third["id"]]
    assert [r.kind for r in email_rows] == [NotificationKind.CONFIRMATION]


def test_unknown_unsubscribe_link_is_404(client: FlaskClient, salon: f.Salon) -> None:
    assert client.post("/book/unsubscribe/nope", data={}).status_code == 404
    assert client.get("/book/unsubscribe/" + "x" * 300).status_code == 404


def test_smtp_5xx_fails_for_good_and_4xx_is_retried(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, mailbox: RunningCatcher
) -> None:
    mailbox.catcher.fail_with = "451 4.3.0 try again later"
    api_book(client, auth, salon, f.local(f.next_weekday(0), 10))
    now = utcnow()
    assert set(deliver_due(now).values()) == {"retry"}
    (row,) = rows(kind=NotificationKind.CONFIRMATION)
    assert row.status == NotificationStatus.PENDING
    assert "451" in (row.last_error or "")
    assert now <= row.available_at <= now + timedelta(seconds=2)
    mailbox.catcher.fail_with = "550 5.1.1 no such user"
    assert set(deliver_due(row.available_at).values()) == {"failed"}
    (row,) = rows(kind=NotificationKind.CONFIRMATION)
    assert row.status == NotificationStatus.FAILED
    assert "550" in (row.last_error or "")


def test_a_new_stylist_at_the_same_time_keeps_the_reminder(
    client: FlaskClient, auth: dict[str, str], salon: f.Salon, mailbox: RunningCatcher
) -> None:
    start = f.local(f.next_weekday(0), 10)
    booked = api_book(client, auth, salon, start)
    response = client.patch(
        f"/api/v1/reservations/{booked['id']}", json={"professional_id": salon.ana.id}, headers=auth
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    (reminder,) = rows(kind=NotificationKind.REMINDER)
    assert reminder.status == NotificationStatus.PENDING
    deliver_due(utcnow())
    deliver_due(reminder.due_at)
    mails = mailbox.catcher.received()
    assert subjects(mails)[1:] == [
        "Tu cita en Peluquería Test ha cambiado",
        "Recordatorio: tu cita en Peluquería Test",
    ]
    assert "Ana" in _text(mails[2])
