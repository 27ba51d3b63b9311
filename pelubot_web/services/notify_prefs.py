"""The customer's email choice: one-click unsubscribe from reminders and change notices.

The link in each email carries a token minted for that email; only its hash is stored
(``Notification.unsubscribe_token_hash``). Unsubscribing is stored on the customer
(``Customer.email_opt_out_at``) and drops the reminders and notices still waiting.
Confirmations of new bookings are still sent: the customer asked for those.
"""

from __future__ import annotations

from datetime import datetime

from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.models import Customer, Notification
from pelubot_web.models.types import utcnow
from pelubot_web.services.errors import NotFound
from pelubot_web.services.manage_links import row_for_token
from pelubot_web.services.notifications import skip_optional_emails_of

__all__ = ["customer_for_unsubscribe", "unsubscribe"]


def customer_for_unsubscribe(token: str) -> Customer:
    """The customer an unsubscribe link belongs to; ``NotFound`` for unknown tokens."""
    row: Notification | None = row_for_token(Notification.unsubscribe_token_hash, token)
    if row is None:
        raise NotFound("unknown unsubscribe link")
    customer: Customer = row.reservation.customer
    return customer


def unsubscribe(token: str, now: datetime | None = None) -> Customer:
    """Store the opt-out (idempotent) and drop waiting reminders and notices."""
    now = now or utcnow()
    begin_write()
    customer = customer_for_unsubscribe(token)
    if customer.email_opt_out_at is None:
        customer.email_opt_out_at = now
    skip_optional_emails_of(customer.id, now)
    db.session.commit()
    return customer
