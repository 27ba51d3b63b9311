"""Profile the API's hot endpoints in-process (cProfile), without a server or a load tool.

``python -m bench.profile --database-url postgresql://postgres@127.0.0.1/pelubot_prof
[--scale] [--repeat 30]``: migrates the (empty or already prepared) database, seeds the
demo salon (and with ``--scale`` 200k reservations and 20k customers), then calls each
endpoint ``--repeat`` times through the test client and prints its mean time and the
profile's top entries. Relative shares and call counts stay meaningful on a busy
machine, where wall-clock numbers do not.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from collections.abc import Callable
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import func, select

from pelubot_web import create_app
from pelubot_web.config import Config, current_config
from pelubot_web.extensions import db
from pelubot_web.models import Reservation, Service
from pelubot_web.services import accounts, demo

from .dataset import make_scale_data


def prepare(app: Flask, scale: bool) -> str:
    """Migrate and seed; return a fresh API key."""
    with app.app_context():
        upgrade()
        if demo.database_is_empty():
            demo.seed_demo(current_config(app).tz)
        if scale and (db.session.scalar(select(func.count(Reservation.id))) or 0) < 1000:
            make_scale_data(200_000, 20_000, current_config(app).tz)
        return accounts.create_api_key("profile", ["booking"]).secret


def endpoints(app: Flask) -> dict[str, str]:
    with app.app_context():
        service_id = db.session.scalar(select(Service.id).where(Service.slug == "corte-mujer"))
    day = (date.today() + timedelta(days=3)).isoformat()
    slots = f"/api/v1/slots?service_id={service_id}&date={day}"
    return {
        "slots any x7": f"{slots}&days=7",
        "slots one x1": f"{slots}&professional_id=1",
        "reservations": "/api/v1/reservations?limit=20",
        "reservations filtered": "/api/v1/reservations?limit=20&professional_id=2&status=completed",
        "reservations offset 5000": "/api/v1/reservations?limit=20&offset=5000",
    }


def run(client: FlaskClient, url: str, key: str, repeat: int) -> Callable[[], None]:
    def call() -> None:
        for _ in range(repeat):
            response = client.get(url, headers={"X-API-Key": key})
            assert response.status_code == 200, response.get_data(as_text=True)

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--scale", action="store_true")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--only", default=None, help="Substring of one endpoint name")
    args = parser.parse_args()
    config = Config(
        env="dev",
        database_url=args.database_url,
        redis_url=args.redis_url,
        secret_key="profile-secret-key",
        gcal_backend="disabled",
        api_rate_limit="1000000/minute",
    ).validated()
    app = create_app(config)
    key = prepare(app, args.scale)
    client = app.test_client()
    for name, url in endpoints(app).items():
        if args.only and args.only not in name:
            continue
        run(client, url, key, 3)()  # warm caches and connections
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.runcall(run(client, url, key, args.repeat))
        per_call = (time.perf_counter() - started) / args.repeat * 1000
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
        stats.print_stats(args.top)
        print(f"=== {name}: {per_call:.1f} ms/call (profiled), {url}")
        print("\n".join(out.getvalue().splitlines()[4:]))


if __name__ == "__main__":
    main()
