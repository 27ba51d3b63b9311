"""The emulator is as strict as Google where PeluBot could otherwise pass by luck.

Everything goes over HTTP through google-api-python-client, as the workers do.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rq.timeouts import JobTimeoutException, UnixSignalDeathPenalty

from pelubot_web.gcal import (
    CalendarGateway,
    CalendarNotFound,
    CalendarReadOnly,
    EventIdUnusable,
    GoogleCalendarError,
    build_calendar_service,
    classify,
)
from pelubot_web.gcal.emulator import EmulatorControl
from tests.gcal.test_gateway import ANA, booking, gateway_for, tomorrow_at


def test_an_interrupted_call_never_hands_its_answer_to_the_next_call(
    gcal_emulator_url: str, gcal_emulator: EmulatorControl
) -> None:
    """RQ's job timeout (SIGALRM) mid-request must not leave an unread answer behind."""
    gateway = gateway_for(gcal_emulator_url)
    first_id, first = booking(tomorrow_at(9))
    second_id, second = booking(tomorrow_at(10))
    gateway.upsert_event(ANA, first_id, first)
    gateway.upsert_event(ANA, second_id, second)
    gcal_emulator.add_fault(latency_ms=1500, methods=["get"], count=1)

    with (
        pytest.raises(JobTimeoutException),
        UnixSignalDeathPenalty(1, JobTimeoutException),
    ):
        gateway.get_event(ANA, first_id)
    time.sleep(0.8)  # the slow answer to the first call arrives meanwhile

    answer = gateway.get_event(ANA, second_id)

    assert answer is not None
    assert answer["id"] == second_id


def test_an_unregistered_calendar_answers_404_and_the_gateway_names_the_sharing_problem(
    gcal_emulator_url: str,
) -> None:
    service = build_calendar_service(
        "emulator", credentials_file=None, emulator_url=gcal_emulator_url, timeout=5.0
    )
    gateway = CalendarGateway(service, principal="pelubot@project.iam.gserviceaccount.com")
    event_id, body = booking(tomorrow_at(9))

    with pytest.raises(CalendarNotFound, match="not shared with pelubot@project") as caught:
        gateway.upsert_event("nobody@salon.test", event_id, body)

    assert caught.value.retryable is False


def test_deleting_from_an_unshared_calendar_is_a_failure_not_a_success(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    event_id, body = booking(tomorrow_at(9))
    gcal_gateway.upsert_event(ANA, event_id, body)
    gcal_emulator.unregister_calendar(ANA)

    with pytest.raises(CalendarNotFound, match=f"calendar {ANA} not found or not shared"):
        gcal_gateway.delete_event(ANA, event_id)


def test_deleting_an_event_that_is_gone_from_a_live_calendar_is_still_success(
    gcal_gateway: CalendarGateway,
) -> None:
    event_id, _ = booking(tomorrow_at(9))

    assert gcal_gateway.delete_event(ANA, event_id) is False


def test_a_read_only_calendar_refuses_writes_with_required_access_level(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    gcal_emulator.register_calendar("reader@salon.test", access="reader")
    event_id, body = booking(tomorrow_at(9))

    with pytest.raises(CalendarReadOnly, match="read-only") as caught:
        gcal_gateway.upsert_event("reader@salon.test", event_id, body)

    assert caught.value.status == 403
    assert caught.value.reason == "requiredAccessLevel"


def test_a_purged_event_id_stays_taken_and_cannot_be_updated(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    event_id, body = booking(tomorrow_at(9))
    gcal_gateway.upsert_event(ANA, event_id, body)
    gcal_gateway.delete_event(ANA, event_id)
    assert gcal_emulator.purge_cancelled() == 1

    with pytest.raises(EventIdUnusable, match="purged"):
        gcal_gateway.upsert_event(ANA, event_id, body)
    assert gcal_gateway.get_event(ANA, event_id) is None


@pytest.mark.parametrize(
    "extra",
    [
        {"iCalUID": "x@google.com"},
        {"q": "corte"},
        {"sharedExtendedProperty": "a=b"},
        {"updatedMin": "2030-01-01T00:00:00Z"},
        {"timeMax": "2030-01-01T00:00:00Z"},
        {"orderBy": "updated"},
    ],
)
def test_every_parameter_google_refuses_next_to_a_sync_token_is_refused(
    gcal_emulator_url: str, extra: dict[str, str]
) -> None:
    service = build_calendar_service(
        "emulator", credentials_file=None, emulator_url=gcal_emulator_url, timeout=5.0
    )
    token = service.events().list(calendarId=ANA).execute()["nextSyncToken"]

    with pytest.raises(Exception, match="syncToken cannot be combined") as caught:
        service.events().list(calendarId=ANA, syncToken=token, **extra).execute()

    assert classify(caught.value).status == 400


def test_single_events_expands_a_weekly_rule_on_the_wall_clock_across_dst(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    gcal_emulator.register_calendar("zoned@salon.test", time_zone="Europe/Madrid")
    master: dict[str, Any] = {
        "summary": "Gym",
        "start": {"dateTime": "2030-03-19T10:00:00", "timeZone": "Europe/Madrid"},
        "end": {"dateTime": "2030-03-19T11:00:00", "timeZone": "Europe/Madrid"},
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"],
    }
    gcal_gateway.upsert_event("zoned@salon.test", "abc0000001", master)

    items, _ = gcal_gateway.list_changes("zoned@salon.test", None)

    starts = [datetime.fromisoformat(item["start"]["dateTime"]) for item in items]
    # 10:00 CET twice, then 10:00 CEST after the change on 31 March
    assert [s.astimezone(UTC).hour for s in starts] == [9, 9, 8]
    assert all(item["recurringEventId"] == "abc0000001" for item in items)
    assert items[0]["id"] == "abc0000001_20300319T090000Z"


def test_all_day_events_follow_the_calendars_time_zone(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    gcal_emulator.register_calendar("zoned@salon.test", time_zone="Europe/Madrid")
    day = {"summary": "Holiday", "start": {"date": "2030-07-01"}, "end": {"date": "2030-07-02"}}
    gcal_gateway.upsert_event("zoned@salon.test", "ad00000001", day)
    service_start = datetime(2030, 6, 30, 21, 30, tzinfo=UTC)  # 23:30 in Madrid

    busy = gcal_gateway.free_busy(
        ["zoned@salon.test"], service_start, service_start + timedelta(hours=1)
    )

    assert busy["zoned@salon.test"] == [
        (datetime(2030, 6, 30, 22, tzinfo=UTC), service_start + timedelta(hours=1))
    ]


def test_token_expired_mode_answers_401_until_switched_off(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl
) -> None:
    gcal_emulator.expire_auth()
    with pytest.raises(GoogleCalendarError) as caught:
        gcal_gateway.get_event(ANA, "abcde12345")
    assert (caught.value.status, caught.value.retryable) == (401, False)

    gcal_emulator.expire_auth(False)
    assert gcal_gateway.get_event(ANA, "abcde12345") is None


@pytest.mark.parametrize("fmt", ["legacy", "rpc"])
def test_both_google_error_formats_classify_the_same(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl, fmt: str
) -> None:
    gcal_emulator.add_fault(
        status=403, reason="quotaExceeded", format=fmt, retry_after=120, methods=["get"]
    )

    with pytest.raises(GoogleCalendarError) as caught:
        gcal_gateway.get_event(ANA, "abcde12345")

    assert caught.value.reason == "quotaExceeded"
    assert caught.value.is_quota
    assert caught.value.retryable
    assert caught.value.retry_after_s == 120


@pytest.mark.parametrize("fault", [{"drop": True}, {"truncate": True}])
def test_dropped_connections_and_truncated_bodies_are_retryable_transport_errors(
    gcal_gateway: CalendarGateway, gcal_emulator: EmulatorControl, fault: dict[str, bool]
) -> None:
    event_id, body = booking(tomorrow_at(9))
    gcal_gateway.upsert_event(ANA, event_id, body)
    # No count: httplib2 itself retries an idempotent request once on a new connection.
    gcal_emulator.add_fault(methods=["get"], **fault)

    with pytest.raises(GoogleCalendarError) as caught:
        gcal_gateway.get_event(ANA, event_id)

    assert caught.value.retryable
    gcal_emulator.clear_faults()
    got = gcal_gateway.get_event(ANA, event_id)
    assert got is not None
    assert got["id"] == event_id
