"""A closed-loop load generator: N users, each sends its next request as soon as the last
one answered (no think time), for a fixed duration.

Users are threads spread over a few processes (one Python process cannot drive a fast
server from many threads: the GIL would be the bottleneck, not PeluBot). Each user keeps
one HTTP/1.1 connection and reconnects when the server closes it. Every request is
recorded as ``(name, status, seconds)``; status 0 is a connection error.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

__all__ = ["Record", "run_users"]

Record = tuple[str, int, float]
# 409 answers that are correct under contention: someone else took the slot first.
CONFLICT_OK = {"POST /reservations", "PATCH /reservations/{id}"}


class Client:
    """One user's connection; ``call`` records every request it makes."""

    def __init__(self, port: int, headers: dict[str, str], records: list[Record]) -> None:
        self.port, self.headers, self.records = port, headers, records
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(
        self,
        name: str,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {**self.headers, **(headers or {})}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=all_headers)
            response = self.conn.getresponse()
            raw = response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.records.append((name, 0, time.perf_counter() - started))
            return 0, None
        self.records.append((name, status, time.perf_counter() - started))
        is_json = raw and response.getheader("Content-Type", "").endswith("json")
        return status, json.loads(raw) if is_json else None


@dataclass
class Chatbot:
    """One chatbot conversation loop: the audit's mix of slot searches, bookings,
    reschedules, cancels, sync checks and reservation lists."""

    client: Client
    offers: list[tuple[int, int]]  # (professional_id, service_id)
    rng: random.Random
    booked: list[str] = field(default_factory=list)
    phone: str = ""
    cursor: str | None = None

    def _day(self) -> str:
        return (date.today() + timedelta(days=self.rng.randint(2, 30))).isoformat()

    def _slots(self, name: str, query: str) -> list[dict[str, Any]]:
        status, body = self.client.call(name, "GET", f"/api/v1/slots?{query}")
        return body["items"] if status == 200 and body else []

    def slots_any_week(self) -> None:
        _, service = self.rng.choice(self.offers)
        self._slots("GET /slots (any, 7 days)", f"service_id={service}&date={self._day()}&days=7")

    def slots_any_day(self) -> None:
        _, service = self.rng.choice(self.offers)
        self._slots("GET /slots (any, 1 day)", f"service_id={service}&date={self._day()}")

    def slots_first_five(self) -> None:
        _, service = self.rng.choice(self.offers)
        query = f"service_id={service}&date={self._day()}&days=7&limit=5"
        self._slots("GET /slots (any, 7 days, limit 5)", query)

    def _pro_slots(self, pro: int, service: int) -> list[dict[str, Any]]:
        query = f"service_id={service}&date={self._day()}&professional_id={pro}"
        return self._slots("GET /slots (one professional)", query)

    def book(self) -> None:
        pro, service = self.rng.choice(self.offers)
        slots = self._pro_slots(pro, service)
        if not slots:
            return
        body = {
            "service_id": service,
            "professional_id": pro,
            "start": self.rng.choice(slots[:12])["start"],
            "customer": {"name": "Cliente Bench", "phone": self.phone},
        }
        key = {"Idempotency-Key": str(uuid.uuid4())}
        status, created = self.client.call(
            "POST /reservations", "POST", "/api/v1/reservations", body, key
        )
        if status == 201 and created:
            self.booked.append(created["id"])

    def reschedule(self) -> None:
        if not self.booked:
            return
        pro, service = self.rng.choice(self.offers)
        slots = self._pro_slots(pro, service)
        if slots:
            body = {
                "start": self.rng.choice(slots[:12])["start"],
                "professional_id": pro,
                "service_id": service,
            }
            rid = self.rng.choice(self.booked)
            self.client.call(
                "PATCH /reservations/{id}", "PATCH", f"/api/v1/reservations/{rid}", body
            )

    def cancel(self) -> None:
        if len(self.booked) > 3:
            rid = self.booked.pop(0)
            self.client.call(
                "POST /reservations/{id}/cancel", "POST", f"/api/v1/reservations/{rid}/cancel", {}
            )

    def check_sync(self) -> None:
        if self.booked:
            rid = self.rng.choice(self.booked)
            self.client.call(
                "GET /reservations/{id}/sync", "GET", f"/api/v1/reservations/{rid}/sync"
            )

    def read_one(self) -> None:
        if self.booked:
            rid = self.rng.choice(self.booked)
            self.client.call("GET /reservations/{id}", "GET", f"/api/v1/reservations/{rid}")

    def list_page(self) -> None:
        self.client.call("GET /reservations", "GET", "/api/v1/reservations?limit=20")

    def list_filtered(self) -> None:
        pro, _ = self.rng.choice(self.offers)
        filters = self.rng.choice(
            [
                f"professional_id={pro}",
                f"professional_id={pro}&status=confirmed",
                f"phone={self.phone.replace('+', '%2B')}",
                f"status=cancelled&start_from={date.today().isoformat()}T00:00:00%2B00:00",
            ]
        )
        path = f"/api/v1/reservations?limit=20&{filters}"
        self.client.call("GET /reservations (filtered)", "GET", path)

    def list_deep_offset(self) -> None:
        offset = self.rng.randint(1000, 5000)
        path = f"/api/v1/reservations?limit=20&offset={offset}"
        self.client.call("GET /reservations (deep offset)", "GET", path)

    def list_next_page(self) -> None:
        """Follow ``next_after`` page after page, starting over at the end."""
        after = f"&after={self.cursor}" if self.cursor else ""
        status, body = self.client.call(
            "GET /reservations (after cursor)", "GET", f"/api/v1/reservations?limit=20{after}"
        )
        self.cursor = body.get("next_after") if status == 200 and body else None

    def actions(self) -> list[tuple[Callable[[], None], int]]:
        return [
            (self.slots_any_week, 4),
            (self.slots_any_day, 2),
            (self.slots_first_five, 1),
            (self.book, 4),
            (self.reschedule, 1),
            (self.cancel, 2),
            (self.check_sync, 2),
            (self.read_one, 1),
            (self.list_page, 1),
            (self.list_filtered, 1),
            (self.list_deep_offset, 1),
            (self.list_next_page, 1),
        ]


def _health_user(port: int, deadline: float, records: list[Record], _n: int) -> None:
    client = Client(port, {}, records)
    while time.monotonic() < deadline:
        client.call("GET /health", "GET", "/health")


def _chatbot_user(port: int, deadline: float, records: list[Record], n: int, key: str) -> None:
    client = Client(port, {"X-API-Key": key}, [])  # catalog reads are setup, not load
    _, services = client.call("setup", "GET", "/api/v1/services")
    _, pros = client.call("setup", "GET", "/api/v1/professionals")
    offers = [(p["id"], sid) for p in pros["items"] for sid in p["service_ids"]]
    client.records = records
    bot = Chatbot(
        client, offers, random.Random(n), phone=f"+3461{n:03d}{random.randint(0, 9999):04d}"
    )
    actions, weights = zip(*bot.actions(), strict=True)
    while time.monotonic() < deadline:
        bot.rng.choices(actions, weights)[0]()


def _process(kind: str, port: int, key: str, users: list[int], duration: float) -> list[Record]:
    records: list[Record] = []
    deadline = time.monotonic() + duration
    target = _health_user if kind == "health" else _chatbot_user
    threads = [
        threading.Thread(
            target=target,
            args=(port, deadline, records, n) + (() if kind == "health" else (key,)),
        )
        for n in users
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return records


def run_users(
    kind: str, port: int, users: int, duration: float, key: str = "", processes: int = 3
) -> list[Record]:
    """Run ``users`` closed-loop users of ``kind`` ("health" or "mix") for ``duration`` s."""
    groups = [list(range(users))[i::processes] for i in range(processes)]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(processes) as pool:
        parts = pool.starmap(_process, [(kind, port, key, g, duration) for g in groups if g])
    return [record for part in parts for record in part]
