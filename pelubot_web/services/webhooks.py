"""Webhook endpoints and signed deliveries (DESIGN.md, Webhooks).

Each delivery is a ``POST`` of ``{"id", "type", "created_at", "data": {"reservation"}}``
with ``PeluBot-Event`` and ``PeluBot-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>">`` (Stripe's scheme; verification snippet in docs/api.md). Requests
time out after ``PELUBOT_WEBHOOK_TIMEOUT_S`` (5 s) and never follow redirects, so a
delivery can only reach the host that was registered.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select, update

from pelubot_web.extensions import db
from pelubot_web.models import WebhookEndpoint
from pelubot_web.models.notify import EVENT_TYPES
from pelubot_web.services.errors import DeliveryError, InvalidInput, NotFound

__all__ = [
    "EVENT_TYPE_NAMES",
    "add_endpoint",
    "disable_endpoint",
    "list_endpoints",
    "post_event",
    "remove_endpoint",
    "sign",
]

EVENT_TYPE_NAMES = tuple(EVENT_TYPES.values())
USER_AGENT = "PeluBot-Webhooks/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``PeluBot-Signature`` header value for ``body`` sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _clean_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise InvalidInput("the URL must be an http:// or https:// URL with a host", field="url")
    return url


def add_endpoint(
    url: str, secret: str | None = None, events: list[str] | None = None
) -> WebhookEndpoint:
    """Register an endpoint (all events when ``events`` is empty); a secret is made if none."""
    clean_url = _clean_url(url)
    secret = (secret or "").strip() or f"whsec_{secrets.token_urlsafe(24)}"
    if len(secret) < 16 or len(secret) > 200:
        raise InvalidInput("the secret must be 16-200 characters", field="secret")
    chosen = sorted(set(events or []))
    unknown = [e for e in chosen if e not in EVENT_TYPE_NAMES]
    if unknown:
        raise InvalidInput(
            f"unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPE_NAMES)}",
            field="events",
        )
    endpoint = WebhookEndpoint(
        url=clean_url, secret=secret, event_types=" ".join(chosen), active=True
    )
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def list_endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def remove_endpoint(endpoint_id: int) -> None:
    """Delete an endpoint and its deliveries (history included)."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    db.session.delete(endpoint)
    db.session.commit()


def set_active(endpoint_id: int, active: bool) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    endpoint.active = active
    endpoint.disabled_reason = None if active else "disabled by an admin"
    db.session.commit()
    return endpoint


def disable_endpoint(endpoint_id: int, reason: str) -> None:
    """The receiver answered 410 Gone: stop sending to it (an admin can re-enable it)."""
    with db.engine.begin() as conn:
        conn.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .values(active=False, disabled_reason=reason[:2000])
        )


@dataclass(frozen=True)
class Delivery:
    url: str
    secret: str
    event_type: str
    body: bytes
    timeout_s: float


def post_event(delivery: Delivery, now: float | None = None) -> int:
    """POST one signed event; returns the 2xx status or raises ``DeliveryError``.

    Every other answer (redirects and 4xx included: a misconfigured receiver is usually
    fixed, and the attempt budget bounds the cost), timeouts and connection errors are
    retryable, except 410 Gone (``gone=True``: the endpoint gets disabled).
    """
    parts = urlsplit(delivery.url)
    timestamp = int(now if now is not None else time.time())
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = connection_class(parts.hostname or "", parts.port, timeout=delivery.timeout_s)
    try:
        connection.request(
            "POST",
            path,
            body=delivery.body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "PeluBot-Event": delivery.event_type,
                "PeluBot-Signature": sign(delivery.secret, timestamp, delivery.body),
            },
        )
        response = connection.getresponse()
        response.read(64 * 1024)
        status = response.status
    except TimeoutError:
        raise DeliveryError(f"timed out after {delivery.timeout_s:g} s", retryable=True) from None
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(
            f"connection error: {type(exc).__name__}: {exc}", retryable=True
        ) from None
    finally:
        connection.close()
    if 200 <= status < 300:
        return status
    if status == 410:
        raise DeliveryError("HTTP 410 Gone: endpoint disabled", retryable=False, gone=True)
    if 300 <= status < 400:
        raise DeliveryError(f"HTTP {status}: redirects are not followed", retryable=True)
    raise DeliveryError(f"HTTP {status}", retryable=True)
