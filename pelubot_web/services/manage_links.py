"""Manage-my-booking links: an unguessable token per reservation, stored only as a hash.

The customer gets ``/book/manage/<token>``; the database keeps the SHA-256 of the token
in ``Reservation.manage_token_hash`` (written in the booking transaction itself), so a
leaked database does not leak working links, and a token opens exactly one reservation.
Emails carry links of their own: the worker mints a fresh token when it sends one and
stores its hash on the notification row (``Notification.manage_token_hash``), so an API
booking gets a working link by email too, and the raw token exists only in the email.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from pelubot_web.extensions import db
from pelubot_web.models import Notification, Reservation
from pelubot_web.services.booking import hash_manage_token
from pelubot_web.services.errors import NotFound

__all__ = ["new_manage_token", "reservation_for_token", "row_for_token"]

TOKEN_BYTES = 32  # 256 bits: ~43 URL-safe characters, not guessable
MAX_TOKEN_LENGTH = 100


def new_manage_token() -> tuple[str, str]:
    """A fresh ``(token, hash)``: give the hash to ``create_reservation``, the token to
    the customer (once; it is never stored in clear)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_manage_token(token)


def row_for_token(column: InstrumentedAttribute[str | None], token: str) -> Any | None:
    """The row whose hash ``column`` matches ``token`` (None for unknown or malformed)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    digest = hash_manage_token(token)
    row = db.session.scalar(select(column.class_).where(column == digest))
    if row is None or not hmac.compare_digest(getattr(row, column.key) or "", digest):
        return None
    return row


def reservation_for_token(token: str) -> Reservation:
    """The reservation this token opens. ``NotFound`` for any unknown or malformed token."""
    reservation: Reservation | None = row_for_token(Reservation.manage_token_hash, token)
    if reservation is not None:
        return reservation
    # Each email carries its own link, minted when it was sent (tasks/notify.py).
    emailed: Notification | None = row_for_token(Notification.manage_token_hash, token)
    if emailed is None:
        raise NotFound("unknown manage link")
    return emailed.reservation
