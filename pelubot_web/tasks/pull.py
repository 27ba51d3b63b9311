"""Pull side of calendar sync: import busy time a stylist adds in Google Calendar.

Incremental with Google's ``syncToken``; a 410 (token expired) triggers a full resync.
PeluBot's own events are skipped (they are reservations already). Availability
subtracts the imported ``ExternalBusy`` blocks; no request path ever calls Google.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import delete, select

from pelubot_web.config import current_config
from pelubot_web.db_engine import begin_write
from pelubot_web.extensions import db
from pelubot_web.gcal import GoogleCalendarError, SyncTokenExpired, is_pelubot_event
from pelubot_web.metrics import GOOGLE_ERRORS
from pelubot_web.models import CalendarPullState, ExternalBusy, Stylist
from pelubot_web.models.types import utcnow
from pelubot_web.observability import job_id_var
from pelubot_web.tasks.runtime import gateway_for_stylist

log = logging.getLogger(__name__)


def pull_stylist_calendar(stylist_id: int) -> str:
    """RQ entry point: import one stylist's busy blocks. Returns what it did."""
    token = job_id_var.set(f"pull-{stylist_id}")
    try:
        return import_busy_blocks(stylist_id)
    finally:
        db.session.remove()
        job_id_var.reset(token)


def _when(value: dict[str, Any], tz_name: str) -> datetime | None:
    """An event time as aware UTC; all-day dates start at midnight in the salon zone."""
    from zoneinfo import ZoneInfo

    if "dateTime" in value:
        parsed = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=ZoneInfo(value.get("timeZone") or tz_name))
        return parsed
    if "date" in value:
        return datetime.combine(date.fromisoformat(value["date"]), time(0), ZoneInfo(tz_name))
    return None


def _is_busy(event: dict[str, Any]) -> bool:
    return event.get("status") != "cancelled" and event.get("transparency") != "transparent"


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
    # No transaction stays open across the call to Google.
    db.session.rollback()

    gateway = gateway_for_stylist(stylist)
    full = token is None
    try:
        try:
            events, next_token = gateway.list_changes(calendar_id, token)
        except SyncTokenExpired:
            log.info("sync token expired; full resync", extra={"calendar_id": calendar_id})
            full = True
            events, next_token = gateway.list_changes(calendar_id, None)
    except GoogleCalendarError as exc:
        GOOGLE_ERRORS.labels(str(exc.status) if exc.status else "connection").inc()
        begin_write()
        _pull_state(stylist_id, calendar_id).last_error = str(exc)[:2000]
        db.session.commit()
        log.warning("busy import failed", extra={"calendar_id": calendar_id, "error": str(exc)})
        return "failed"

    begin_write()
    state = _pull_state(stylist_id, calendar_id)
    if full:
        # A full list is the whole truth: drop what it no longer contains.
        db.session.execute(delete(ExternalBusy).where(ExternalBusy.stylist_id == stylist_id))
        state.last_full_sync_at = utcnow()
    existing = {
        row.event_id: row
        for row in db.session.scalars(
            select(ExternalBusy).where(
                ExternalBusy.stylist_id == stylist_id, ExternalBusy.calendar_id == calendar_id
            )
        )
    }
    changed = 0
    for event in events:
        event_id = event.get("id")
        if not event_id or is_pelubot_event(event):
            continue
        start = _when(event.get("start") or {}, cfg.timezone)
        end = _when(event.get("end") or {}, cfg.timezone)
        row = existing.get(event_id)
        if not _is_busy(event) or start is None or end is None or end <= start:
            if row is not None:
                db.session.delete(row)
                changed += 1
            continue
        if row is None:
            row = ExternalBusy(stylist_id=stylist_id, calendar_id=calendar_id, event_id=event_id)
            db.session.add(row)
            existing[event_id] = row
        row.start_at = start
        row.end_at = end
        row.summary = (event.get("summary") or "")[:255] or None
        changed += 1
    state.sync_token = next_token
    state.last_pulled_at = utcnow()
    state.last_error = None
    db.session.commit()
    log.info(
        "busy blocks imported",
        extra={"calendar_id": calendar_id, "changed": changed, "full": full},
    )
    return "full" if full else "incremental"
