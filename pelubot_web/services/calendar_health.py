"""Per-stylist calendar health: the failures an operator must see and act on.

Two sources, both in the database: the busy-time import's state (a pull that keeps
failing: calendar unshared, 403, token expired) and push rows that failed for good. The
ops dashboard, ``flask sync status``, ``/metrics`` and ``/ready/sync`` all read it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import func, select

from pelubot_web.config import current_config
from pelubot_web.extensions import db
from pelubot_web.models import CalendarPullState, CalendarSyncJob, Reservation, Stylist
from pelubot_web.models.types import utcnow
from pelubot_web.services.sync_status import WORKER_STALE_AFTER_S, queue_snapshot

__all__ = [
    "StylistCalendarHealth",
    "check_sync_health",
    "metrics_snapshot",
    "stylist_calendar_health",
]


@dataclass(frozen=True)
class StylistCalendarHealth:
    stylist_id: int
    slug: str
    name: str
    calendar_id: str
    pull_error: str | None
    pull_failing_since: datetime | None
    last_pulled_at: datetime | None
    failed_pushes: int
    last_push_error: str | None

    @property
    def pull_failing(self) -> bool:
        return self.pull_error is not None

    @property
    def ok(self) -> bool:
        return not self.pull_failing and not self.failed_pushes


def stylist_calendar_health(*, problems_only: bool = False) -> list[StylistCalendarHealth]:
    """One entry per active stylist with a calendar, ordered by name."""
    stylists = db.session.scalars(
        select(Stylist)
        .where(Stylist.active.is_(True), Stylist.calendar_id.is_not(None))
        .order_by(Stylist.name)
    ).all()
    pulls = {
        state.stylist_id: state
        for state in db.session.scalars(select(CalendarPullState))
        if state is not None
    }
    pushes = _failed_pushes_by_stylist()
    health = []
    for stylist in stylists:
        state = pulls.get(stylist.id)
        current = state is not None and state.calendar_id == stylist.calendar_id
        failed, last_error = pushes.get(stylist.id, (0, None))
        entry = StylistCalendarHealth(
            stylist_id=stylist.id,
            slug=stylist.slug,
            name=stylist.name,
            calendar_id=stylist.calendar_id or "",
            pull_error=state.last_error if current and state is not None else None,
            pull_failing_since=state.failing_since if current and state is not None else None,
            last_pulled_at=state.last_pulled_at if current and state is not None else None,
            failed_pushes=failed,
            last_push_error=last_error,
        )
        if not problems_only or not entry.ok:
            health.append(entry)
    return health


def _failed_pushes_by_stylist() -> dict[int, tuple[int, str | None]]:
    rows = db.session.execute(
        select(Reservation.stylist_id, func.count(), func.max(CalendarSyncJob.id))
        .join(Reservation, Reservation.id == CalendarSyncJob.reservation_id)
        .where(CalendarSyncJob.status == "failed")
        .group_by(Reservation.stylist_id)
    ).all()
    found: dict[int, tuple[int, str | None]] = {}
    for stylist_id, count, latest_id in rows:
        latest = db.session.get(CalendarSyncJob, latest_id)
        found[stylist_id] = (int(count), latest.last_error if latest is not None else None)
    return found


def check_sync_health(app: Flask) -> dict[str, dict[str, object]]:
    """The checks behind ``/ready/sync``: each ``{"ok": bool, ...}``. Never calls Google."""
    cfg = current_config(app)
    snapshot = queue_snapshot()
    age = snapshot.get("worker_heartbeat_age_s")
    worker_ok = isinstance(age, int | float) and age <= WORKER_STALE_AFTER_S
    oldest = float(snapshot.get("oldest_pending_age_s") or 0.0)  # type: ignore[arg-type]
    waiting = float(snapshot.get("oldest_due_notification_age_s") or 0.0)  # type: ignore[arg-type]
    failing = [h.slug for h in stylist_calendar_health(problems_only=True) if h.pull_failing]
    return {
        "worker": {
            "ok": worker_ok,
            "heartbeat_age_s": round(float(age), 1) if isinstance(age, int | float) else None,
        },
        "outbox": {
            "ok": oldest <= cfg.sync_stale_after_s,
            "oldest_pending_age_s": round(oldest, 1),
            "threshold_s": cfg.sync_stale_after_s,
        },
        "pulls": {"ok": not failing, "failing_stylists": failing},
        "notifications": {
            "ok": waiting <= cfg.sync_stale_after_s,
            "oldest_due_age_s": round(waiting, 1),
            "threshold_s": cfg.sync_stale_after_s,
        },
    }


def metrics_snapshot() -> dict[str, object]:
    """Queue counters plus per-stylist calendar health, for ``/metrics`` at scrape time."""
    snapshot = queue_snapshot()
    now = utcnow()
    snapshot["stylists"] = [
        {
            "slug": entry.slug,
            "pull_failing": entry.pull_failing,
            "pull_failing_s": (
                (now - entry.pull_failing_since).total_seconds()
                if entry.pull_failing_since
                else 0.0
            ),
            "failed_pushes": entry.failed_pushes,
        }
        for entry in stylist_calendar_health()
    ]
    return snapshot
