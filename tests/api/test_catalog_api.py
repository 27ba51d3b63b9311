"""/services and /professionals: short cache, dropped in every process when an edit commits,
ETag and 304."""

from __future__ import annotations

import time

from flask.testing import FlaskClient
from sqlalchemy import text

from pelubot_web.extensions import db
from pelubot_web.models import Service, Stylist
from pelubot_web.services.accounts import create_api_key
from tests import factories as f
from tests.conftest import free_port, two_processes
from tests.factories import stored


def test_services_and_professionals_have_the_documented_shape(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str]
) -> None:
    services = client.get("/api/v1/services", headers=auth).get_json()["items"]
    assert {"id": salon.cut.id, "slug": salon.cut.slug, "name": "Corte", "duration_min": 30,
            "price_cents": 2000, "currency": "EUR"} in services  # fmt: skip
    pros = client.get("/api/v1/professionals", headers=auth).get_json()["items"]
    ana = next(p for p in pros if p["id"] == salon.ana.id)
    assert ana == {"id": salon.ana.id, "slug": salon.ana.slug, "name": "Ana",
                   "service_ids": sorted([salon.cut.id, salon.color.id])}  # fmt: skip
    colourists = client.get(
        f"/api/v1/professionals?service_id={salon.color.id}", headers=auth
    ).get_json()["items"]
    assert [p["id"] for p in colourists] == [salon.ana.id]


def test_etag_gives_304_until_the_catalog_changes(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str]
) -> None:
    first = client.get("/api/v1/services", headers=auth)
    etag = first.headers["ETag"]
    again = client.get("/api/v1/services", headers={**auth, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    salon.cut.name = "Corte y peinado"
    db.session.commit()
    changed = client.get("/api/v1/services", headers={**auth, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "Corte y peinado" in {s["name"] for s in changed.get_json()["items"]}


def test_catalog_is_cached_until_an_edit_commits(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str]
) -> None:
    def names() -> set[str]:
        items = client.get("/api/v1/services", headers=auth).get_json()["items"]
        return {s["name"] for s in items}

    assert "Corte" in names()
    # Behind the ORM's back (as a hand-run SQL statement would): the cache does not know.
    db.session.execute(text("UPDATE services SET name = 'Corte a mano' WHERE name = 'Corte'"))
    db.session.commit()
    assert "Corte" in names()  # served from the cache (TTL 30 s)
    # Any ORM edit of the catalog, through a service or not, drops the cache on commit.
    stored(Service, salon.color.id).name = "Color nuevo"
    db.session.commit()
    assert {"Corte a mano", "Color nuevo"} <= names()


def test_an_edit_in_one_process_reaches_the_others_through_redis(
    migrated_database_url: str, redis_conn: object
) -> None:
    web, admin = two_processes(migrated_database_url, catalog_cache_ttl_s=0.5)
    with web.app_context():
        salon = f.Salon()
        bea_id = salon.bea.id
        key = {"X-API-Key": create_api_key("bot", ["booking"]).secret}
        client = web.test_client()
        assert client.get("/api/v1/professionals", headers=key).status_code == 200
        db.session.remove()
    with admin.app_context():
        stored(Stylist, bea_id).name = "Beatriz"
        db.session.commit()  # the edit, committed in the admin's process
        db.session.remove()
    with web.app_context():
        pros = client.get("/api/v1/professionals", headers=key).get_json()["items"]
        assert "Beatriz" in {p["name"] for p in pros}
        db.session.remove()


def test_without_redis_other_processes_see_an_edit_after_the_ttl(
    migrated_database_url: str,
) -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    web, admin = two_processes(migrated_database_url, redis_url=dead_redis, catalog_cache_ttl_s=0.5)
    with web.app_context():
        salon = f.Salon()
        cut_id = salon.cut.id
        key = {"X-API-Key": create_api_key("bot", ["booking"]).secret}
        client = web.test_client()

        def names() -> set[str]:
            return {
                s["name"] for s in client.get("/api/v1/services", headers=key).get_json()["items"]
            }

        assert "Corte" in names()
        db.session.remove()
    with admin.app_context():
        stored(Service, cut_id).name = "Corte nuevo"
        db.session.commit()  # its invalidation cannot reach the web process: never raises
        db.session.remove()
    with web.app_context():
        assert "Corte nuevo" not in names()
        time.sleep(0.6)
        assert "Corte nuevo" in names()
        db.session.remove()
