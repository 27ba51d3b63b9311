"""The emulator's calendar rules, without HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pelubot_web.gcal.emulator.api_errors import ApiError
from pelubot_web.gcal.emulator.store import CalendarStore, ListQuery

CAL = "ana@salon.test"
T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def event(
    event_id: str | None, start: datetime = T0, minutes: int = 30, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "summary": "Corte",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat()},
        **extra,
    }
    if event_id is not None:
        body["id"] = event_id
    return body


def api_error(call: Callable[[], object]) -> ApiError:
    with pytest.raises(ApiError) as raised:
        call()
    return raised.value


@pytest.fixture
def store() -> CalendarStore:
    calendars = CalendarStore()
    calendars.register_calendar(CAL)
    calendars.register_calendar("bea@salon.test")
    return calendars


@pytest.mark.parametrize("bad_id", ["abcd", "ABCDEF", "abcdwx", "abc-def", "a" * 1025])
def test_ids_outside_googles_rules_are_refused(store: CalendarStore, bad_id: str) -> None:
    error = api_error(lambda: store.insert(CAL, event(bad_id)))

    assert (error.status, error.reason) == (400, "invalid")


def test_an_id_is_generated_when_the_client_sends_none(store: CalendarStore) -> None:
    created = store.insert(CAL, event(None))

    assert len(created["id"]) == 26
    assert store.get(CAL, created["id"])["summary"] == "Corte"


def test_inserting_a_taken_id_is_a_conflict_even_after_delete(store: CalendarStore) -> None:
    store.insert(CAL, event("abcde1"))
    assert api_error(lambda: store.insert(CAL, event("abcde1"))).status == 409

    store.delete(CAL, "abcde1")
    error = api_error(lambda: store.insert(CAL, event("abcde1")))

    assert (error.status, error.reason) == (409, "duplicate")
    assert error.body() == {
        "error": {
            "errors": [
                {
                    "domain": "global",
                    "reason": "duplicate",
                    "message": "The requested identifier already exists.",
                }
            ],
            "code": 409,
            "message": "The requested identifier already exists.",
        }
    }


def test_the_same_id_may_live_in_two_calendars(store: CalendarStore) -> None:
    store.insert(CAL, event("abcde1"))
    store.insert("bea@salon.test", event("abcde1"))

    assert len(store.live_events()) == 2


def test_delete_twice_is_gone_and_unknown_is_not_found(store: CalendarStore) -> None:
    store.insert(CAL, event("abcde1"))
    store.delete(CAL, "abcde1")

    again = api_error(lambda: store.delete(CAL, "abcde1"))
    assert (again.status, again.reason) == (410, "deleted")
    assert api_error(lambda: store.delete(CAL, "abcde2")).status == 404
    assert store.get(CAL, "abcde1")["status"] == "cancelled"


def test_update_replaces_the_event_and_counts_the_sequence(store: CalendarStore) -> None:
    created = store.insert(CAL, event("abcde1", description="old", colorId="5"))

    updated = store.update(CAL, "abcde1", event("abcde1", start=T0 + timedelta(hours=1)))

    assert "description" not in updated
    assert "colorId" not in updated
    assert updated["start"]["dateTime"] == (T0 + timedelta(hours=1)).isoformat()
    assert updated["sequence"] == 1
    assert updated["created"] == created["created"]
    assert updated["etag"] != created["etag"]
    assert api_error(lambda: store.update(CAL, "abcde9", event("abcde9"))).status == 404


def test_patch_merges_objects_and_clears_nulls(store: CalendarStore) -> None:
    store.insert(
        CAL,
        event("abcde1", description="x", extendedProperties={"private": {"a": "1", "b": "2"}}),
    )

    patched = store.patch(
        CAL, "abcde1", {"description": None, "extendedProperties": {"private": {"b": "3"}}}
    )

    assert "description" not in patched
    assert patched["extendedProperties"] == {"private": {"a": "1", "b": "3"}}
    assert patched["summary"] == "Corte"


def test_an_event_must_not_end_before_it_starts(store: CalendarStore) -> None:
    body = event("abcde1")
    body["end"] = {"dateTime": (T0 - timedelta(minutes=1)).isoformat()}

    assert api_error(lambda: store.insert(CAL, body)).reason == "timeRangeEmpty"


def test_local_times_need_a_time_zone(store: CalendarStore) -> None:
    naive = {"summary": "x", "start": {"dateTime": "2030-03-04T10:00:00"}}
    naive["end"] = {"dateTime": "2030-03-04T10:30:00"}
    assert api_error(lambda: store.insert(CAL, {**naive, "id": "abcde1"})).status == 400

    zoned = {
        "start": {"dateTime": "2030-03-04T10:00:00", "timeZone": "Europe/Madrid"},
        "end": {"dateTime": "2030-03-04T10:30:00", "timeZone": "Europe/Madrid"},
    }
    store.insert(CAL, {**zoned, "id": "abcde2"})
    page = store.list_events(CAL, ListQuery(time_max=datetime(2030, 3, 4, 9, 1, tzinfo=UTC)))

    assert [item["id"] for item in page["items"]] == ["abcde2"]  # 10:00 Madrid = 09:00 UTC


def test_time_bounds_are_exclusive(store: CalendarStore) -> None:
    store.insert(CAL, event("before", start=T0 - timedelta(minutes=30)))  # ends at T0
    store.insert(CAL, event("during", start=T0))
    store.insert(CAL, event("after0", start=T0 + timedelta(hours=1)))  # starts at time_max

    page = store.list_events(CAL, ListQuery(time_min=T0, time_max=T0 + timedelta(hours=1)))

    assert [item["id"] for item in page["items"]] == ["during"]


def test_deleted_events_are_listed_only_when_asked(store: CalendarStore) -> None:
    store.insert(CAL, event("abcde1"))
    store.delete(CAL, "abcde1")

    assert store.list_events(CAL, ListQuery())["items"] == []
    shown = store.list_events(CAL, ListQuery(show_deleted=True))["items"]
    assert [(item["id"], item["status"]) for item in shown] == [("abcde1", "cancelled")]


def test_incremental_list_hides_deleted_details_unless_show_deleted(store: CalendarStore) -> None:
    store.insert(CAL, event("abcde1"))
    token = store.list_events(CAL, ListQuery())["nextSyncToken"]
    store.delete(CAL, "abcde1")

    bare = store.list_events(CAL, ListQuery(sync_token=token))["items"]
    full = store.list_events(CAL, ListQuery(sync_token=token, show_deleted=True))["items"]

    assert bare[0]["status"] == "cancelled"
    assert "summary" not in bare[0]
    assert full[0]["summary"] == "Corte"


def test_sync_tokens_cannot_be_combined_with_time_filters(store: CalendarStore) -> None:
    token = store.list_events(CAL, ListQuery())["nextSyncToken"]

    error = api_error(lambda: store.list_events(CAL, ListQuery(sync_token=token, time_min=T0)))

    assert error.status == 400


def test_reset_invalidates_sync_tokens(store: CalendarStore) -> None:
    token = store.list_events(CAL, ListQuery())["nextSyncToken"]
    store.reset()
    store.register_calendar(CAL)

    error = api_error(lambda: store.list_events(CAL, ListQuery(sync_token=token)))

    assert (error.status, error.reason) == (410, "fullSyncRequired")


def test_pages_never_skip_an_event_that_did_not_change(store: CalendarStore) -> None:
    for name in ("aaaaa1", "aaaaa2", "aaaaa3", "aaaaa4"):
        store.insert(CAL, event(name))
    first = store.list_events(CAL, ListQuery(max_results=2))
    store.delete(CAL, "aaaaa1")  # the first page shrinks while the client pages

    second = store.list_events(CAL, ListQuery(max_results=2, page_token=first["nextPageToken"]))

    assert [item["id"] for item in first["items"]] == ["aaaaa1", "aaaaa2"]
    assert [item["id"] for item in second["items"]] == ["aaaaa3", "aaaaa4"]
    assert "nextSyncToken" in second
    assert "nextPageToken" not in second


def test_order_by_start_time(store: CalendarStore) -> None:
    store.insert(CAL, event("vvvvv1", start=T0))
    store.insert(CAL, event("aaaaa1", start=T0 + timedelta(hours=2)))

    page = store.list_events(CAL, ListQuery(order_by="startTime"))

    assert [item["id"] for item in page["items"]] == ["vvvvv1", "aaaaa1"]


def test_private_extended_property_filter(store: CalendarStore) -> None:
    store.insert(CAL, event("abcde1", extendedProperties={"private": {"k": "v"}}))
    store.insert(CAL, event("abcde2"))

    page = store.list_events(CAL, ListQuery(private_properties=(("k", "v"),)))

    assert [item["id"] for item in page["items"]] == ["abcde1"]


def test_free_busy_clips_to_the_requested_window(store: CalendarStore) -> None:
    store.insert(CAL, event("abcde1", start=T0 - timedelta(minutes=15), minutes=60))

    answer = store.free_busy(
        {
            "timeMin": T0.isoformat(),
            "timeMax": (T0 + timedelta(hours=2)).isoformat(),
            "items": [{"id": CAL}],
        }
    )

    assert answer["calendars"][CAL]["busy"] == [
        {"start": "2030-03-04T09:00:00.000Z", "end": "2030-03-04T09:45:00.000Z"}
    ]
