"""``GET /slots``: the fast serializer matches the documented schema; ``limit``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask import Flask
from flask.testing import FlaskClient

from pelubot_web.api.schemas import SlotSchema
from pelubot_web.api.slots import slot_json
from pelubot_web.extensions import db
from pelubot_web.services.availability import available_slots
from tests import factories as f


def slots_url(salon: f.Salon, day: date, **params: object) -> str:
    extra = "".join(f"&{k}={v}" for k, v in params.items())
    return f"/api/v1/slots?service_id={salon.cut.id}&date={day}{extra}"


def test_slot_json_is_what_the_slot_schema_dumps_also_on_the_fall_back_day(app: Flask) -> None:
    salon = f.Salon(slot_granularity_min=60)
    who = f.stylist([salon.cut], hours={6: [(time(1), time(4))]}, name="Domingo")
    db.session.commit()
    now = datetime(2027, 10, 20, 9, 0, tzinfo=UTC)
    slots = available_slots(salon.cut.id, date(2027, 10, 31), stylist_id=who.id, now=now)
    assert len(slots) == 4  # 01:00, 02:00 (+02:00), 02:00 (+01:00), 03:00
    assert [slot_json(s) for s in slots] == SlotSchema(many=True).dump(slots)


def test_limit_returns_the_first_slots_of_the_full_list_across_days(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    full = client.get(slots_url(salon, monday, days=7), headers=auth).get_json()["items"]
    first_day = [s for s in full if s["start"].startswith(monday.isoformat())]
    assert len(full) > len(first_day) > 5
    for limit in (1, 5, len(first_day) + 3):
        page = client.get(slots_url(salon, monday, days=7, limit=limit), headers=auth)
        assert page.status_code == 200, page.get_json()
        assert page.get_json()["items"] == full[:limit]
    everything = client.get(slots_url(salon, monday, days=7, limit=1000), headers=auth)
    assert everything.get_json()["items"] == full


def test_limit_out_of_range_is_a_422_naming_it(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str], monday: date
) -> None:
    for bad in ("0", "1001", "-1", "five"):
        response = client.get(slots_url(salon, monday, limit=bad), headers=auth)
        assert response.status_code == 422, bad
        assert response.get_json()["errors"][0]["field"] == "limit"


def test_openapi_documents_the_slots_limit_and_the_slot_shape(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    params = {p["name"]: p for p in spec["paths"]["/api/v1/slots"]["get"]["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 1000
    slot = spec["components"]["schemas"]["Slot"]
    assert set(slot["required"]) == {"professional_id", "start", "end"}
    assert slot["properties"]["start"]["format"] == "date-time"
