"""SMTP delivery with the standard library, and how its errors are classified.

``PELUBOT_SMTP_URL`` forms: ``smtp://host:25`` (plain), ``smtp+starttls://user:pass@host:587``
(STARTTLS, then login) and ``smtps://user:pass@host:465`` (implicit TLS). Credentials
in the URL are percent-decoded, so a password may contain any character.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from pelubot_web.services.errors import DeliveryError

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class SmtpSettings:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None
    timeout_s: float


def parse_smtp_url(url: str, timeout_s: float) -> SmtpSettings:
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("SMTP URL must be smtp://, smtp+starttls:// or smtps:// with a host")
    return SmtpSettings(
        scheme=parts.scheme,
        host=parts.hostname,
        port=parts.port or DEFAULT_PORTS[parts.scheme],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout_s=timeout_s,
    )


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.scheme == "smtps":
        return smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            timeout=settings.timeout_s,
            context=ssl.create_default_context(),
        )
    client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
    if settings.scheme == "smtp+starttls":
        client.starttls(context=ssl.create_default_context())
    return client


def send_mail(message: EmailMessage, settings: SmtpSettings) -> None:
    """Hand one message to the SMTP server. Raises ``DeliveryError``.

    4xx replies, timeouts and connection errors are retryable; 5xx replies (bad
    recipient, refused sender, failed login) are permanent.
    """
    with _session(settings) as client:
        client.send_message(message)


def check_server(settings: SmtpSettings) -> None:
    """Connect, negotiate TLS and log in exactly as a delivery would, then send nothing
    (``flask deploy-check``). Raises ``DeliveryError`` like ``send_mail``."""
    with _session(settings) as client:
        client.noop()


@contextmanager
def _session(settings: SmtpSettings) -> Iterator[smtplib.SMTP]:
    """A logged-in SMTP connection; every failure inside becomes a ``DeliveryError``."""
    try:
        with _connect(settings) as client:
            if settings.username:
                client.login(settings.username, settings.password or "")
            yield client
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise DeliveryError(
            f"SMTP refused the recipient: {exc.recipients}",
            retryable=all(400 <= c < 500 for c in codes),
        ) from None
    except smtplib.SMTPResponseException as exc:
        detail = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        raise DeliveryError(
            f"SMTP {exc.smtp_code}: {detail}", retryable=400 <= exc.smtp_code < 500
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        # Connection refused or reset, timeouts, TLS errors: the server may be back later.
        raise DeliveryError(
            f"SMTP connection error: {type(exc).__name__}: {exc}", retryable=True
        ) from None
