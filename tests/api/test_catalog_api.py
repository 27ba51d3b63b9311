"""/services and /professionals: short cache, invalidated at once by an edit, ETag and 304."""

from __future__ import annotations

import socket
import time

from flask.testing import FlaskClient

from pelubot_web import create_app
from pelubot_web.extensions import db
from pelubot_web.models import Service
from pelubot_web.services.accounts import create_api_key
from pelubot_web.services.catalog import invalidate_catalog_cache
from tests import factories as f
from tests.conftest import make_config
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
    invalidate_catalog_cache()
    changed = client.get("/api/v1/services", headers={**auth, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "Corte y peinado" in {s["name"] for s in changed.get_json()["items"]}


def test_catalog_is_cached_until_invalidated(
    client: FlaskClient, salon: f.Salon, auth: dict[str, str]
) -> None:
    def names() -> set[str]:
        items = client.get("/api/v1/services", headers=auth).get_json()["items"]
        return {s["name"] for s in items}

    assert "Corte" in names()
    stored(Service, salon.cut.id).active = False
    db.session.commit()
    assert "Corte" in names()  # served from the cache (TTL 30 s)
    invalidate_catalog_cache()
    assert "Corte" not in names()


def test_invalidation_reaches_other_processes_through_redis(
    migrated_database_url: str, redis_conn: object
) -> None:
    cfg = make_config(migrated_database_url)
    web, admin = create_app(cfg), create_app(cfg)  # two processes sharing DB and Redis
    with web.app_context():
        from tests.conftest import _clean_database

        _clean_database(web)
        salon = f.Salon()
        key = {"X-API-Key": create_api_key("bot", ["booking"]).secret}
        client = web.test_client()
        assert client.get("/api/v1/professionals", headers=key).status_code == 200
        salon.bea.name = "Beatriz"
        db.session.commit()
        db.session.remove()
    with admin.app_context():
        invalidate_catalog_cache()  # what the admin edit calls, in its own process
        db.session.remove()
    with web.app_context():
        pros = client.get("/api/v1/professionals", headers=key).get_json()["items"]
        assert "Beatriz" in {p["name"] for p in pros}
        db.session.remove()


def test_without_redis_the_cache_falls_back_to_its_ttl(migrated_database_url: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(
        make_config(
            migrated_database_url,
            redis_url=f"redis://127.0.0.1:{port}/0",
            catalog_cache_ttl_s=0.5,
        )
    )
    with app.app_context():
        from tests.conftest import _clean_database

        _clean_database(app)
        salon = f.Salon()
        key = {"X-API-Key": create_api_key("bot", ["booking"]).secret}
        client = app.test_client()

        def names() -> set[str]:
            return {
                s["name"] for s in client.get("/api/v1/services", headers=key).get_json()["items"]
            }

        assert "Corte" in names()
        salon.cut.name = "Corte nuevo"
        db.session.commit()
        assert "Corte nuevo" not in names()
        time.sleep(0.6)
        assert "Corte nuevo" in names()
        invalidate_catalog_cache()  # never raises without Redis
        db.session.remove()
