"""Idempotency keys: a retried POST with the same key gets the original response.

The record is written in the same transaction as the reservation it describes (see
``booking.create_reservation(on_created=...)``), so "the booking exists" and "its
response is stored" are never out of step, even when the client timed out and retries.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from pelubot_web.extensions import db
from pelubot_web.models import IdempotencyRecord
from pelubot_web.models.types import utcnow
from pelubot_web.services.errors import IdempotencyMismatch

__all__ = ["RETENTION", "find", "fingerprint", "purge_expired", "remember", "replay"]

# Keys are honoured for a day, then may be reused.
RETENTION = timedelta(hours=24)


def fingerprint(payload: Any) -> str:
    """SHA-256 of the request body in canonical JSON (key order and spacing do not count)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def find(principal: str, key: str, *, now: datetime | None = None) -> IdempotencyRecord | None:
    """The live record of ``key`` for this caller, if any."""
    cutoff = (now or utcnow()) - RETENTION
    record: IdempotencyRecord | None = db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.principal == principal,
            IdempotencyRecord.key == key,
            IdempotencyRecord.created_at >= cutoff,
        )
    )
    return record


def replay(record: IdempotencyRecord, request_fingerprint: str) -> tuple[int, str]:
    """The stored (status, body) for a retry; ``IdempotencyMismatch`` for another body."""
    if record.request_fingerprint != request_fingerprint:
        raise IdempotencyMismatch(
            "this Idempotency-Key was already used with a different request body",
            field="Idempotency-Key",
        )
    return record.status_code, record.response_body


def remember(
    principal: str, key: str, request_fingerprint: str, status_code: int, body: str
) -> None:
    """Store a response in the caller's open transaction (an expired record is replaced)."""
    db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.principal == principal,
            IdempotencyRecord.key == key,
            IdempotencyRecord.created_at < utcnow() - RETENTION,
        )
    )
    db.session.add(
        IdempotencyRecord(
            principal=principal,
            key=key,
            request_fingerprint=request_fingerprint,
            status_code=status_code,
            response_body=body,
        )
    )


def purge_expired(now: datetime | None = None) -> int:
    """Delete records past their retention (the worker's dispatcher calls this)."""
    result = db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.created_at < (now or utcnow()) - RETENTION
        )
    )
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
