"""The calendar-sync outbox's status vocabulary.

An outbox row says "make an outside system match our data"; it is written in the same
transaction as the data and worked off by RQ workers. Each outbox has its own status
``StrEnum`` (``NotificationStatus`` for notifications, whose end states differ); the
mechanics in ``services/outbox.py`` take the members they need from an ``OutboxSpec``.
"""

from __future__ import annotations

from enum import StrEnum


class OutboxStatus(StrEnum):
    """pending -> queued (on RQ) -> processing (claimed) -> succeeded | failed.

    A processing row goes back to pending for a retry, when a newer change arrived
    meanwhile, or when its worker died.
    """

    PENDING = "pending"
    QUEUED = "queued"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


# Rows still to be worked off; at most one per subject (a partial unique index).
OPEN_OUTBOX_STATUSES = (OutboxStatus.PENDING, OutboxStatus.QUEUED, OutboxStatus.PROCESSING)
