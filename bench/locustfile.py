"""A chatbot conversation under load: browse the catalog, find slots, book, check sync.

Run by ``bench/run.py``; reads ``PELUBOT_BENCH_API_KEY`` from the environment.
"""

from __future__ import annotations

import os
import random
import uuid
from datetime import date, timedelta

from locust import HttpUser, between, task


class Chatbot(HttpUser):
    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        self.client.headers["X-API-Key"] = os.environ["PELUBOT_BENCH_API_KEY"]
        services = self.client.get("/api/v1/services", name="/services").json()["items"]
        pros = self.client.get("/api/v1/professionals", name="/professionals").json()["items"]
        self.offers = [(p["id"], s) for p in pros for s in services if s["id"] in p["service_ids"]]
        self.booked: list[str] = []

    def _day(self) -> str:
        return (date.today() + timedelta(days=random.randint(2, 30))).isoformat()

    @task(6)
    def find_slots(self) -> None:
        pro_id, service = random.choice(self.offers)
        self.client.get(
            f"/api/v1/slots?service_id={service['id']}&date={self._day()}&days=3",
            name="/slots",
        )

    @task(3)
    def book(self) -> None:
        pro_id, service = random.choice(self.offers)
        slots = self.client.get(
            f"/api/v1/slots?service_id={service['id']}&date={self._day()}&professional_id={pro_id}",
            name="/slots (for booking)",
        ).json()["items"]
        if not slots:
            return
        slot = random.choice(slots)
        body = {
            "service_id": service["id"],
            "professional_id": pro_id,
            "start": slot["start"],
            "customer": {
                "name": "Cliente Bench",
                "phone": f"+34 6{random.randint(0, 99999999):08d}",
            },
        }
        with self.client.post(
            "/api/v1/reservations",
            json=body,
            headers={"Idempotency-Key": str(uuid.uuid4())},
            name="POST /reservations",
            catch_response=True,
        ) as response:
            if response.status_code == 201:
                self.booked.append(response.json()["id"])
                response.success()
            elif response.status_code == 409:
                response.success()  # someone else took the slot: a correct answer

    @task(1)
    def check_sync(self) -> None:
        if self.booked:
            self.client.get(f"/api/v1/reservations/{random.choice(self.booked)}/sync", name="/sync")

    @task(1)
    def list_reservations(self) -> None:
        self.client.get("/api/v1/reservations?limit=50", name="/reservations")

    @task(1)
    def cancel_one(self) -> None:
        if len(self.booked) > 3:
            reservation = self.booked.pop(0)
            self.client.post(
                f"/api/v1/reservations/{reservation}/cancel", name="POST /cancel", json={}
            )
