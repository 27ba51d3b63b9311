"""What the push side does in Google: make one reservation's event match its state.

Separate from ``calendar.py`` (the outbox row's life: claim, heartbeat, outcome) so that
the Google conversation can be read, and changed, on its own.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import update

from pelubot_web.extensions import db
from pelubot_web.gcal import (
    EventData,
    EventIdUnusable,
    GoogleCalendarError,
    build_event_body,
    event_id_for,
    next_event_id,
)
from pelubot_web.models import Reservation
from pelubot_web.tasks.runtime import gateway_for_stylist

__all__ = ["EVENT_STATUSES", "make_google_match"]

log = logging.getLogger(__name__)

# Reservations in these states keep an event in the stylist's calendar.
EVENT_STATUSES = ("confirmed", "completed", "no_show")


def _event_data(reservation: Reservation) -> EventData:
    cfg = current_app.extensions["pelubot_config"]
    return EventData(
        reservation_uuid=reservation.uuid,
        service_name=reservation.service.name,
        customer_first_name=reservation.customer_first_name,
        customer_phone=reservation.customer.phone,
        stylist_name=reservation.stylist.name,
        start=reservation.start_at,
        end=reservation.end_at,
        timezone=cfg.timezone,
        notes=reservation.notes,
    )


def _set_event_location(reservation_id: int, calendar_id: str | None, event_id: str) -> None:
    """Intent first: where the event lives and under which id, before Google hears of it."""
    with db.engine.begin() as conn:
        conn.execute(
            update(Reservation)
            .where(Reservation.id == reservation_id)
            .values(synced_calendar_id=calendar_id, gcal_event_id=event_id)
        )


# A purged id is rare; a few generations in one run means something else is wrong.
MAX_ID_GENERATIONS = 3


def make_google_match(reservation: Reservation) -> str | None:
    """Upsert, move or delete the reservation's event. Returns where the event lives now.

    ``synced_calendar_id`` and ``gcal_event_id`` are written *before* an insert (intent
    first), so a worker that dies after Google accepted the event still leaves a pointer
    to clean it up later. An event PeluBot already wrote to this calendar is updated
    directly (one call instead of insert, 409, update).
    """
    gateway = gateway_for_stylist(reservation.stylist)
    event_id = reservation.gcal_event_id or event_id_for(reservation.uuid)
    target = reservation.stylist.calendar_id if reservation.status in EVENT_STATUSES else None
    previous = reservation.synced_calendar_id
    if previous and previous != target:
        # Stylist changed (or the event must go): delete from the old calendar first.
        # A missing event counts as deleted (a repeat is harmless); a missing *calendar*
        # raises, so orphaned events are never reported as synced.
        gateway.delete_event(previous, event_id)
        _set_event_location(reservation.id, None, event_id)
    if target is None:
        return None
    known = previous == target and reservation.synced_version is not None
    if previous != target:
        _set_event_location(reservation.id, target, event_id)
    body = build_event_body(_event_data(reservation))
    for _ in range(MAX_ID_GENERATIONS):
        try:
            gateway.upsert_event(target, event_id, {**body, "id": event_id}, known=known)
            return target
        except EventIdUnusable:
            event_id, known = next_event_id(event_id), False
            log.warning(
                "event id purged by Google; moving to a new generation",
                extra={"reservation": reservation.uuid, "event_id": event_id},
            )
            _set_event_location(reservation.id, target, event_id)
    raise GoogleCalendarError(f"no usable event id for reservation {reservation.uuid}")
