"""Pull side of calendar sync: import busy time a stylist adds in Google Calendar.

Incremental with Google's ``syncToken``; a 410 (token expired) triggers a full resync.
A full sync only asks for the booking horizon (``timeMax``), each page is written as it
arrives (memory stays bounded), and rows it did not see are swept at the end. PeluBot's
own events, events the stylist declined, free (transparent) events and instances beyond
the horizon are not busy time; all-day events follow the calendar's time zone. A failing
import is recorded (``failing_since``) for the dashboard, metrics and ``/ready/sync``.
Availability subtracts the imported ``ExternalBusy`` blocks; no request path calls Google.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select

from pelubot_web.config import current_config
from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.gcal import ChangePage, GoogleCalendarError, SyncTokenExpired, is_pelubot_event
from pelubot_web.metrics import GOOGLE_ERRORS, PULL_OUTCOMES
from pelubot_web.models import BookingRules, CalendarPullState, ExternalBusy, Stylist
from pelubot_web.models.types import utcnow
from pelubot_web.observability import job_id_var
from pelubot_web.tasks.runtime import gateway_for_stylist

log = logging.getLogger(__name__)


def pull_stylist_calendar(stylist_id: int) -> str:
    """RQ entry point: import one stylist's busy blocks. Returns what it did."""
    token = job_id_var.set(f"pull-{stylist_id}")
    try:
        outcome = import_busy_blocks(stylist_id)
        PULL_OUTCOMES.labels(outcome).inc()
        return outcome
    finally:
        db.session.remove()
        job_id_var.reset(token)


def _when(value: dict[str, Any], tz_name: str) -> datetime | None:
    """An event time as aware UTC; all-day dates start at midnight in the calendar's zone."""
    if "dateTime" in value:
        parsed = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=ZoneInfo(value.get("timeZone") or tz_name))
        return parsed
    if "date" in value:
        return datetime.combine(date.fromisoformat(value["date"]), time(0), ZoneInfo(tz_name))
    return None


def _declined_by_owner(event: dict[str, Any]) -> bool:
    """The stylist was invited and said no: that time is not taken."""
    return any(
        attendee.get("self") and attendee.get("responseStatus") == "declined"
        for attendee in event.get("attendees") or []
        if isinstance(attendee, dict)
    )


def _is_busy(event: dict[str, Any]) -> bool:
    return (
        event.get("status") != "cancelled"
        and event.get("transparency") != "transparent"
        and not _declined_by_owner(event)
    )


def _pull_state(stylist_id: int, calendar_id: str) -> CalendarPullState:
    state = db.session.scalar(
        select(CalendarPullState).where(CalendarPullState.stylist_id == stylist_id)
    )
    if state is None:
        state = CalendarPullState(stylist_id=stylist_id, calendar_id=calendar_id)
        db.session.add(state)
    if state.calendar_id != calendar_id:
        # The stylist's calendar changed: forget the old cursor (a full sync follows).
        state.calendar_id = calendar_id
        state.sync_token = None
    return state


def booking_horizon_end(now: datetime) -> datetime:
    """Nothing beyond the last bookable day matters to availability (plus a day's slack)."""
    rules = db.session.get(BookingRules, 1)
    days = rules.max_advance_days if rules is not None else 60
    return now + timedelta(days=days + 1)


@dataclass
class _Import:
    """One run over a calendar's pages; each page is written in its own transaction."""

    stylist_id: int
    calendar_id: str
    full: bool
    horizon_end: datetime
    default_tz: str
    started: datetime
    changed: int = 0
    next_token: str | None = None

    def apply(self, page: ChangePage) -> None:
        begin_write()
        existing = {
            row.event_id: row
            for row in db.session.scalars(
                select(ExternalBusy).where(
                    ExternalBusy.stylist_id == self.stylist_id,
                    ExternalBusy.calendar_id == self.calendar_id,
                    ExternalBusy.event_id.in_([str(e.get("id")) for e in page.items]),
                )
            )
        }
        for event in page.items:
            self._apply_event(event, existing, page.time_zone or self.default_tz)
        self.next_token = page.next_sync_token or self.next_token
        db.session.commit()

    def _apply_event(
        self, event: dict[str, Any], existing: dict[str, ExternalBusy], tz_name: str
    ) -> None:
        event_id = event.get("id")
        if not event_id or is_pelubot_event(event):
            return
        start = _when(event.get("start") or {}, tz_name)
        end = _when(event.get("end") or {}, tz_name)
        row = existing.get(event_id)
        usable = start is not None and end is not None and start < end < _FAR
        if not (_is_busy(event) and usable and start < self.horizon_end):  # type: ignore[operator]
            if row is not None:
                db.session.delete(row)
                self.changed += 1
            return
        if row is None:
            row = ExternalBusy(
                stylist_id=self.stylist_id, calendar_id=self.calendar_id, event_id=event_id
            )
            db.session.add(row)
            existing[event_id] = row
        row.start_at, row.end_at = start, end  # type: ignore[assignment]
        row.summary = (event.get("summary") or "")[:255] or None
        row.updated_at = utcnow()  # marks it as seen by this full sync
        self.changed += 1

    def finish(self) -> None:
        begin_write()
        state = _pull_state(self.stylist_id, self.calendar_id)
        if self.full:
            # A full list is the whole truth: drop what this run did not see.
            db.session.execute(
                delete(ExternalBusy).where(
                    ExternalBusy.stylist_id == self.stylist_id,
                    (ExternalBusy.calendar_id != self.calendar_id)
                    | (ExternalBusy.updated_at < self.started),
                )
            )
            state.last_full_sync_at = utcnow()
        state.sync_token = self.next_token
        state.last_pulled_at = utcnow()
        state.last_error = None
        state.failing_since = None
        db.session.commit()


_FAR = datetime(9000, 1, 1, tzinfo=UTC)


def _record_pull_failure(stylist_id: int, calendar_id: str, exc: GoogleCalendarError) -> str:
    GOOGLE_ERRORS.labels(str(exc.status) if exc.status else "connection").inc()
    db.session.rollback()
    begin_write()
    state = _pull_state(stylist_id, calendar_id)
    state.last_error = str(exc)[:2000]
    state.failing_since = state.failing_since or utcnow()
    db.session.commit()
    log.warning("busy import failed", extra={"calendar_id": calendar_id, "error": str(exc)})
    return "failed"


def import_busy_blocks(stylist_id: int) -> str:
    cfg = current_config()
    stylist = db.session.get(Stylist, stylist_id)
    if stylist is None or not stylist.calendar_id or cfg.gcal_backend == "disabled":
        return "skipped"
    calendar_id = stylist.calendar_id
    state = db.session.scalar(
        select(CalendarPullState).where(CalendarPullState.stylist_id == stylist_id)
    )
    token = state.sync_token if state is not None and state.calendar_id == calendar_id else None
    now = utcnow()
    run = _Import(
        stylist_id, calendar_id, token is None, booking_horizon_end(now), cfg.timezone, now
    )
    gateway = gateway_for_stylist(stylist)
    # No transaction stays open across a call to Google.
    db.session.rollback()
    try:
        try:
            for page in gateway.iter_changes(
                calendar_id, token, time_max=run.horizon_end if run.full else None
            ):
                run.apply(page)
        except SyncTokenExpired:
            log.info("sync token expired; full resync", extra={"calendar_id": calendar_id})
            run.full, run.started = True, utcnow()
            for page in gateway.iter_changes(calendar_id, None, time_max=run.horizon_end):
                run.apply(page)
    except GoogleCalendarError as exc:
        return _record_pull_failure(stylist_id, calendar_id, exc)
    run.finish()
    log.info(
        "busy blocks imported",
        extra={"calendar_id": calendar_id, "changed": run.changed, "full": run.full},
    )
    return "full" if run.full else "incremental"
