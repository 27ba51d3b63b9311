"""Profile the API's hot endpoints in-process (cProfile), without a server or a load tool.

``--cpu`` instead prints the CPU milliseconds each request of the closed-loop mix costs
(reads, searches and writes; no profiler attached): the number to compare before and
after a change, since CPU, not waiting, limits the mix on two cores.

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
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from http import HTTPStatus
from typing import Any

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
        return accounts.create_api_key(f"profile-{time.time_ns()}", ["booking"]).secret


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


def _cpu_ms(call: Callable[[], object], repeat: int, batches: int = 3) -> float:
    """The least CPU per call over a few batches (the machine's noise only adds)."""
    call()  # warm
    best = float("inf")
    for _ in range(batches):
        started = time.process_time()
        for _ in range(repeat):
            call()
        best = min(best, (time.process_time() - started) / repeat)
    return best * 1000


class MixCalls:
    """One call of each kind in the closed-loop mix, repeatable (writes take new slots)."""

    def __init__(self, app: Flask, key: str, repeat: int) -> None:
        self.client = app.test_client()
        self.headers = {"X-API-Key": key}
        pros = self.ok(self.client.get("/api/v1/professionals", headers=self.headers))["items"]
        self.offers = [(p["id"], s) for p in pros for s in p["service_ids"]]
        self.free = self._free_times(days=repeat)
        self.booked: list[str] = []

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    def get(self, url: str) -> Callable[[], object]:
        return lambda: self.ok(self.client.get(url, headers=self.headers))

    def _free_times(self, days: int) -> list[dict[str, object]]:
        """Free times far enough apart not to overlap: three a day per professional."""
        free: list[dict[str, object]] = []
        for pro in {p for p, _ in self.offers}:
            service = next(s for p, s in self.offers if p == pro)
            for n in range(2, 2 + days):
                day = (date.today() + timedelta(days=n)).isoformat()
                url = f"/api/v1/slots?service_id={service}&date={day}&professional_id={pro}"
                items = self.ok(self.client.get(url, headers=self.headers))["items"]
                free += [
                    {"service_id": service, "professional_id": pro, "start": s["start"]}
                    for s in items[:: max(1, len(items) // 3)][:3]
                ]
        return free

    def book(self) -> None:
        while True:  # a time found earlier may overlap one booked since: take the next
            body = {**self.free.pop(), "customer": {"name": "Cliente CPU", "phone": "+34611000999"}}
            headers = {**self.headers, "Idempotency-Key": str(uuid.uuid4())}
            response = self.client.post("/api/v1/reservations", json=body, headers=headers)
            if response.status_code != HTTPStatus.CONFLICT:
                self.booked.append(self.ok(response, 201)["id"])
                return

    def reschedule(self) -> None:
        while True:
            url = f"/api/v1/reservations/{self.booked[-1]}"
            response = self.client.patch(url, json=self.free.pop(), headers=self.headers)
            if response.status_code != HTTPStatus.CONFLICT:
                self.ok(response)
                return

    def cancel(self) -> None:
        url = f"/api/v1/reservations/{self.booked.pop(0)}/cancel"
        self.ok(self.client.post(url, json={}, headers=self.headers))


def cpu_table(app: Flask, key: str, repeat: int) -> None:
    """CPU ms per request for each kind of request in the closed-loop mix."""
    calls = MixCalls(app, key, repeat)
    pro, service = calls.offers[0]
    day = (date.today() + timedelta(days=3)).isoformat()
    slots = f"/api/v1/slots?service_id={service}&date={day}"
    calls.book()
    one = f"/api/v1/reservations/{calls.booked[0]}"
    rows = {
        "GET /health": lambda: calls.ok(calls.client.get("/health")),
        "GET /reservations/{id}/sync": calls.get(f"{one}/sync"),
        "GET /reservations/{id}": calls.get(one),
        "GET /reservations?limit=20": calls.get("/api/v1/reservations?limit=20"),
        "GET /slots one stylist, 1 day": calls.get(f"{slots}&professional_id={pro}"),
        "GET /slots any stylist, 1 day": calls.get(slots),
        "GET /slots any stylist, 7 days": calls.get(f"{slots}&days=7"),
        "POST /reservations": calls.book,
        "PATCH /reservations/{id}": calls.reschedule,
        "POST /reservations/{id}/cancel": calls.cancel,
    }
    for name, call in rows.items():
        print(f"{name:34} {_cpu_ms(call, repeat):6.2f} ms CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--scale", action="store_true")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--only", default=None, help="Substring of one endpoint name")
    parser.add_argument("--cpu", action="store_true", help="CPU ms per mix request instead")
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
    if args.cpu:
        cpu_table(app, key, args.repeat)
        return
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
