"""The gateway against the emulator, through the real google-api-python-client."""

from __future__ import annotations

import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pelubot_web.gcal import (
    CalendarGateway,
    CalendarNotFound,
    EventData,
    GoogleCalendarError,
    SyncTokenExpired,
    build_calendar_service,
    build_event_body,
    event_id_for,
)
from pelubot_web.gcal.emulator import EmulatorControl

ANA = "ana@salon.test"
BEA = "bea@salon.test"


def booking(start: datetime, minutes: int = 30, **overrides: Any) -> tuple[str, dict[str, Any]]:
    """A new reservation's event id and body."""
    data = EventData(
        reservation_uuid=str(uuid.uuid4()),
        service_name="Corte",
        customer_first_name="Lucía",
        customer_phone="+34600111222",
        stylist_name="Ana",
        start=start,
        end=start + timedelta(minutes=minutes),
        timezone="Europe/Madrid",
        notes=None,
    )
    body = {**build_event_body(data), **overrides}
    return body["id"], body


def tomorrow_at(hour: int) -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def gateway_for(url: str, *, timeout: float = 5.0, **options: Any) -> CalendarGateway:
    service = build_calendar_service(
        "emulator", credentials_file=None, emulator_url=url, timeout=timeout
    )
    return CalendarGateway(service, **options)


# -- writing events -------------------------------------------------------------------------


def test_upsert_creates_the_event_in_the_stylists_calendar(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    event_id, body = booking(tomorrow_at(9))

    created = gcal_gateway.upsert_event(ANA, event_id, body)

    assert created["id"] == event_id
    assert created["status"] == "confirmed"
    assert created["etag"]
    assert created["htmlLink"]
    assert created["iCalUID"]
    stored = gcal_emulator.events()
    assert [(e["calendarId"], e["id"], e["summary"]) for e in stored] == [
        (ANA, event_id, "Corte — Lucía")
    ]
    assert gcal_emulator.events(calendar_id=BEA) == []


def test_repeated_upsert_updates_the_event_instead_of_duplicating_it(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    event_id, body = booking(tomorrow_at(9))
    gcal_gateway.upsert_event(ANA, event_id, body)
    moved = {**body, "start": {"dateTime": "2030-01-02T12:00:00+01:00"}}
    moved["end"] = {"dateTime": "2030-01-02T12:30:00+01:00"}

    updated = gcal_gateway.upsert_event(ANA, event_id, moved)

    assert updated["start"]["dateTime"] == "2030-01-02T12:00:00+01:00"
    assert updated["sequence"] == 1
    assert len(gcal_emulator.events()) == 1
    assert gcal_emulator.stats()["by_method_status"] == {
        "insert": {"200": 1, "409": 1},
        "update": {"200": 1},
    }


def test_upsert_brings_a_deleted_event_back(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    event_id, body = booking(tomorrow_at(9))
    gcal_gateway.upsert_event(ANA, event_id, body)
    gcal_gateway.delete_event(ANA, event_id)
    assert gcal_emulator.events() == []

    revived = gcal_gateway.upsert_event(ANA, event_id, body)

    assert revived["status"] == "confirmed"
    assert [e["id"] for e in gcal_emulator.events()] == [event_id]


def test_deleting_an_event_that_is_already_gone_is_success(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    event_id, body = booking(tomorrow_at(9))
    gcal_gateway.upsert_event(ANA, event_id, body)

    assert gcal_gateway.delete_event(ANA, event_id) is True
    assert gcal_gateway.delete_event(ANA, event_id) is False  # 410 deleted
    assert gcal_gateway.delete_event(ANA, event_id_for(str(uuid.uuid4()))) is False  # 404
    assert gcal_emulator.stats()["by_method_status"]["delete"] == {"204": 1, "410": 1, "404": 1}


def test_get_event_returns_none_for_unknown_and_cancelled_for_deleted(
    gcal_gateway: CalendarGateway,
) -> None:
    event_id, body = booking(tomorrow_at(9))
    assert gcal_gateway.get_event(ANA, event_id) is None

    gcal_gateway.upsert_event(ANA, event_id, body)
    assert gcal_gateway.get_event(ANA, event_id)["status"] == "confirmed"  # type: ignore[index]

    gcal_gateway.delete_event(ANA, event_id)
    assert gcal_gateway.get_event(ANA, event_id)["status"] == "cancelled"  # type: ignore[index]


# -- reading changes -------------------------------------------------------------------------


def test_full_sync_lists_live_events_from_yesterday_on(gcal_gateway: CalendarGateway) -> None:
    old_id, old = booking(datetime.now(UTC) - timedelta(days=3))
    new_id, new = booking(tomorrow_at(9))
    gone_id, gone = booking(tomorrow_at(11))
    for event_id, body in ((old_id, old), (new_id, new), (gone_id, gone)):
        gcal_gateway.upsert_event(ANA, event_id, body)
    gcal_gateway.delete_event(ANA, gone_id)

    items, token = gcal_gateway.list_changes(ANA, None)

    assert [item["id"] for item in items] == [new_id]
    assert token


def test_incremental_sync_returns_only_changes_including_deletions(
    gcal_gateway: CalendarGateway,
) -> None:
    ids = {}
    for name, hour in (("kept", 9), ("moved", 10), ("deleted", 11)):
        ids[name], body = booking(tomorrow_at(hour))
        gcal_gateway.upsert_event(ANA, ids[name], body)
    _, token = gcal_gateway.list_changes(ANA, None)

    _, moved = booking(tomorrow_at(15))
    gcal_gateway.upsert_event(ANA, ids["moved"], {**moved, "id": ids["moved"]})
    gcal_gateway.delete_event(ANA, ids["deleted"])
    ids["added"], added = booking(tomorrow_at(17))
    gcal_gateway.upsert_event(ANA, ids["added"], added)
    gcal_gateway.upsert_event(BEA, *booking(tomorrow_at(9)))  # another calendar

    items, next_token = gcal_gateway.list_changes(ANA, token)

    changes = {item["id"]: item["status"] for item in items}
    assert changes == {
        ids["moved"]: "confirmed",
        ids["deleted"]: "cancelled",
        ids["added"]: "confirmed",
    }
    assert next_token != token
    assert gcal_gateway.list_changes(ANA, next_token)[0] == []


def test_changes_are_read_across_pages(
    gcal_emulator_url: str, gcal_emulator: EmulatorControl
) -> None:
    gateway = gateway_for(gcal_emulator_url, page_size=2)
    ids = set()
    for hour in range(9, 14):
        event_id, body = booking(tomorrow_at(hour))
        gateway.upsert_event(ANA, event_id, body)
        ids.add(event_id)

    items, token = gateway.list_changes(ANA, None)

    assert {item["id"] for item in items} == ids
    assert len(items) == 5
    assert gcal_emulator.stats()["by_method"]["list"] == 3
    assert gateway.list_changes(ANA, token)[0] == []


def test_invalidated_sync_token_asks_for_a_full_sync(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    gcal_gateway.upsert_event(ANA, *booking(tomorrow_at(9)))
    _, token = gcal_gateway.list_changes(ANA, None)
    gcal_emulator.invalidate_sync_tokens()

    with pytest.raises(SyncTokenExpired) as raised:
        gcal_gateway.list_changes(ANA, token)

    assert raised.value.status == 410
    assert raised.value.reason == "fullSyncRequired"
    assert not raised.value.retryable
    items, _ = gcal_gateway.list_changes(ANA, None)  # the full resync works
    assert len(items) == 1


@pytest.mark.parametrize("token", ["garbage", "eyJlIjoiMSIsImMiOiJ4IiwibiI6MX0"])
def test_unknown_sync_token_asks_for_a_full_sync(gcal_gateway: CalendarGateway, token: str) -> None:
    with pytest.raises(SyncTokenExpired):
        gcal_gateway.list_changes(ANA, token)


def test_a_sync_token_only_works_for_its_own_calendar(gcal_gateway: CalendarGateway) -> None:
    _, token = gcal_gateway.list_changes(ANA, None)

    with pytest.raises(SyncTokenExpired):
        gcal_gateway.list_changes(BEA, token)


def test_free_busy_merges_overlaps_and_ignores_free_and_deleted_events(
    gcal_gateway: CalendarGateway,
) -> None:
    gcal_gateway.upsert_event(ANA, *booking(tomorrow_at(9), minutes=60))
    gcal_gateway.upsert_event(ANA, *booking(tomorrow_at(9) + timedelta(minutes=30), minutes=60))
    gcal_gateway.upsert_event(ANA, *booking(tomorrow_at(14), transparency="transparent"))
    gone_id, gone = booking(tomorrow_at(16))
    gcal_gateway.upsert_event(ANA, gone_id, gone)
    gcal_gateway.delete_event(ANA, gone_id)

    busy = gcal_gateway.free_busy([ANA, BEA], tomorrow_at(0), tomorrow_at(23))

    assert busy == {
        ANA: [(tomorrow_at(9), tomorrow_at(10) + timedelta(minutes=30))],
        BEA: [],
    }


def test_the_emulator_serves_concurrent_workers(
    gcal_emulator_url: str, gcal_emulator: EmulatorControl
) -> None:
    def worker(calendar_id: str) -> None:
        gateway = gateway_for(gcal_emulator_url)  # one gateway per thread: httplib2 is not shared
        for hour in range(8, 20):
            event_id, body = booking(tomorrow_at(hour))
            gateway.upsert_event(calendar_id, event_id, body)
            gateway.upsert_event(calendar_id, event_id, body)

    calendars = [f"stylist{n}@salon.test" for n in range(6)]
    for calendar_id in calendars:
        gcal_emulator.register_calendar(calendar_id)
    with ThreadPoolExecutor(max_workers=len(calendars)) as pool:
        list(pool.map(worker, calendars))

    assert len(gcal_emulator.events()) == 6 * 12
    assert gcal_emulator.stats()["by_status"] == {"200": 6 * 12 * 2, "409": 6 * 12}


# -- failures ----------------------------------------------------------------------------------


def test_transient_503s_fail_twice_then_the_call_succeeds(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    gcal_emulator.add_fault(status=503, reason="backendError", rate=1, count=2)
    event_id, body = booking(tomorrow_at(9))

    for _ in range(2):
        with pytest.raises(GoogleCalendarError) as raised:
            gcal_gateway.upsert_event(ANA, event_id, body)
        assert (raised.value.status, raised.value.reason) == (503, "backendError")
        assert raised.value.retryable

    assert gcal_gateway.upsert_event(ANA, event_id, body)["id"] == event_id
    assert gcal_emulator.faults() == []
    assert gcal_emulator.stats()["by_method_status"]["insert"] == {"503": 2, "200": 1}


def test_forbidden_calendar_is_a_permanent_error(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    gcal_emulator.add_fault(status=403, reason="forbidden")

    with pytest.raises(GoogleCalendarError) as raised:
        gcal_gateway.upsert_event(ANA, *booking(tomorrow_at(9)))

    assert (raised.value.status, raised.value.reason) == (403, "forbidden")
    assert not raised.value.retryable


@pytest.mark.parametrize(
    ("status", "reason"), [(403, "rateLimitExceeded"), (403, "userRateLimitExceeded"), (429, None)]
)
def test_rate_limits_are_retryable(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl, status: int, reason: str | None
) -> None:
    gcal_emulator.add_fault(status=status, reason=reason)

    with pytest.raises(GoogleCalendarError) as raised:
        gcal_gateway.delete_event(ANA, event_id_for(str(uuid.uuid4())))

    assert raised.value.status == status
    assert raised.value.reason == (reason or "rateLimitExceeded")
    assert raised.value.retryable


def test_a_missing_calendar_is_reported_as_calendar_not_found(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    gcal_emulator.add_fault(status=404, methods=["insert"])

    with pytest.raises(CalendarNotFound) as raised:
        gcal_gateway.upsert_event(ANA, *booking(tomorrow_at(9)))

    assert not raised.value.retryable


def test_a_slow_google_times_out_as_a_retryable_error(
    gcal_emulator_url: str, gcal_emulator: EmulatorControl
) -> None:
    gateway = gateway_for(gcal_emulator_url, timeout=0.5)
    gcal_emulator.add_fault(latency_ms=2000, count=1)

    started = time.monotonic()
    with pytest.raises(GoogleCalendarError) as raised:
        gateway.get_event(ANA, "abcde12345")

    assert time.monotonic() - started < 1.5
    assert raised.value.reason == "timeout"
    assert raised.value.retryable
    assert gateway.get_event(ANA, "abcde12345") is None  # the same gateway recovers


def test_faults_can_target_one_calendar_and_some_methods(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    gcal_emulator.add_fault(status=500, calendar_id=BEA, methods=["delete"])
    event_id, body = booking(tomorrow_at(9))

    gcal_gateway.upsert_event(BEA, event_id, body)  # insert on BEA: not targeted
    gcal_gateway.upsert_event(ANA, event_id, body)
    assert gcal_gateway.delete_event(ANA, event_id) is True  # delete on ANA: not targeted
    with pytest.raises(GoogleCalendarError) as raised:
        gcal_gateway.delete_event(BEA, event_id)

    assert raised.value.status == 500
    assert raised.value.retryable


def test_a_fault_with_rate_zero_never_fires(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    gcal_emulator.add_fault(status=503, rate=0)

    for hour in range(9, 14):
        gcal_gateway.upsert_event(ANA, *booking(tomorrow_at(hour)))

    assert gcal_emulator.stats()["faulted"] == 0


def test_an_unreachable_server_is_a_retryable_connection_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gateway = gateway_for(f"http://127.0.0.1:{port}", timeout=2.0)

    with pytest.raises(GoogleCalendarError) as raised:
        gateway.get_event(ANA, "abcde12345")

    assert raised.value.reason == "connectionError"
    assert raised.value.retryable
