"""Compose a customer email (plain text + HTML, .ics, unsubscribe headers) from a row.

Rendered in the reservation's language with the app's own templates and filters
(``templates/mail/``), inside a request context whose base URL is
``PELUBOT_PUBLIC_BASE_URL``, so every link in the email is absolute and correct.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from pelubot_web.config import current_config
from pelubot_web.mail.ics import appointment_ics
from pelubot_web.models import Notification, Reservation
from pelubot_web.models.notify import NotificationKind
from pelubot_web.models.types import utcnow

K = NotificationKind


@dataclass(frozen=True)
class Links:
    """Tokens minted for this email (their hashes are stored on the row)."""

    manage_token: str | None
    unsubscribe_token: str | None


def _subject(kind: str, salon: str) -> str:
    subjects = {
        K.CONFIRMATION: _("Your appointment at %(salon)s is confirmed", salon=salon),
        K.RESCHEDULED: _("Your appointment at %(salon)s has been moved", salon=salon),
        K.CANCELLED: _("Your appointment at %(salon)s has been cancelled", salon=salon),
        K.REMINDER: _("Reminder: your appointment at %(salon)s", salon=salon),
    }
    return subjects[K(kind)]


def compose_email(row: Notification, links: Links) -> EmailMessage:
    """The message for ``row`` (an email notification of its reservation)."""
    cfg = current_config()
    reservation: Reservation = row.reservation
    with (
        current_app.test_request_context("/", base_url=cfg.public_base_url),
        force_locale(reservation.language),
    ):
        manage_url = (
            url_for("booking.manage", token=links.manage_token, _external=True)
            if links.manage_token
            else None
        )
        unsubscribe_url = (
            url_for("booking.unsubscribe", token=links.unsubscribe_token, _external=True)
            if links.unsubscribe_token
            else None
        )
        context = {
            "kind": row.kind,
            "reservation": reservation,
            "salon_name": cfg.salon_name,
            "salon_address": cfg.salon_address,
            "manage_url": manage_url,
            "unsubscribe_url": unsubscribe_url,
        }
        message = EmailMessage()
        message["Subject"] = _subject(row.kind, cfg.salon_name)
        message["From"] = cfg.mail_from
        message["To"] = formataddr((reservation.customer_name, reservation.customer_email or ""))
        message["Message-ID"] = make_msgid(idstring=f"notification-{row.id}")
        message["Content-Language"] = reservation.language
        if unsubscribe_url:
            # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to the URL.
            message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(render_template("mail/message.txt", **context))
        message.add_alternative(render_template("mail/message.html", **context), subtype="html")
        if row.kind in (K.CONFIRMATION, K.RESCHEDULED, K.CANCELLED):
            _attach_ics(message, reservation, cfg.salon_name, cfg.salon_address, manage_url)
    return message


def _attach_ics(
    message: EmailMessage,
    reservation: Reservation,
    salon_name: str,
    salon_address: str,
    manage_url: str | None,
) -> None:
    ics = appointment_ics(
        uid=f"{reservation.uuid}@pelubot",
        sequence=reservation.version,
        start=reservation.start_at,
        end=reservation.end_at,
        summary=f"{reservation.service.name} · {salon_name}",
        location=salon_address or salon_name,
        description=manage_url or "",
        cancelled=reservation.status == "cancelled",
        now=utcnow(),
    )
    message.add_attachment(
        ics.encode("utf-8"),
        maintype="text",
        subtype="calendar",
        filename="cita.ics" if reservation.language == "es" else "appointment.ics",
        params={"method": "CANCEL" if reservation.status == "cancelled" else "PUBLISH"},
    )
