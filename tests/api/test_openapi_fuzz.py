"""Property-based fuzzing of every operation in /api/v1/openapi.json with schemathesis.

Valid and invalid requests (positive and negative generation) against the demo salon,
with a valid API key: no response may be a 5xx, and every response must match the
spec (status code documented, content type, headers and body schema).
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterator

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pelubot_web.config import Config, current_config
from pelubot_web.extensions import db
from pelubot_web.services import booking
from pelubot_web.services.accounts import create_api_key
from pelubot_web.services.availability import available_slots
from pelubot_web.services.demo import seed_demo
from tests import factories as f
from tests.conftest import _clean_database, make_config

pytestmark = pytest.mark.slow  # fuzzing: out of `make check`

# Examples per operation and mode; ~1 minute for the whole run on SQLite.
MAX_EXAMPLES = int(os.environ.get("PELUBOT_FUZZ_EXAMPLES", "100"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def config(migrated_database_url: str) -> Config:
    # The fuzzer sends thousands of requests: lift the rate limit for this test only.
    return make_config(migrated_database_url, api_rate_limit="1000000/minute")


@pytest.fixture
def demo_app(app: Flask, redis_conn: object) -> Iterator[tuple[Flask, dict[str, str], str]]:
    _clean_database(app)
    tz = current_config(app).tz
    seed_demo(tz)
    key = {"X-API-Key": create_api_key("fuzzer", ["booking", "ops"]).secret}
    slot = available_slots(1, f.next_weekday(0), days=7)[0]
    reservation = booking.create_reservation(
        service_id=1,
        stylist_id=slot.stylist_id,
        start=slot.start,
        customer=booking.CustomerInput("Eva Gil", "600123456"),
        notes=None,
        source="chatbot",
    )
    yield app, key, reservation.uuid
    db.session.remove()


def test_every_operation_answers_within_its_spec_and_never_with_a_5xx(
    demo_app: tuple[Flask, dict[str, str], str],
) -> None:
    app, key, existing_uuid = demo_app
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) == len(list(schema.get_all_operations())), "the spec parses"
    assert len(operations) >= 7
    statuses: dict[str, Counter[int]] = defaultdict(Counter)

    for operation in operations:
        strategies = [
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        if "reservation_id" in operation.path:
            # Also aim at a real reservation, so reschedule/cancel logic runs on fuzzed input.
            strategies.append(
                operation.as_strategy(
                    GenerationMode.POSITIVE, path_parameters={"reservation_id": existing_uuid}
                )
            )

        @settings(
            max_examples=MAX_EXAMPLES * len(strategies),
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def check(case: schemathesis.Case) -> None:
            generated = {k: v for k, v in (case.headers or {}).items() if k.lower() != "x-api-key"}
            headers = {**generated, **key}
            response = case.call(headers=headers)
            statuses[case.operation.label][response.status_code] += 1
            case.validate_response(response, checks=CHECKS, headers=headers)

        check()

    # The key was accepted (negative mode also drops it on purpose: those are 401s) and
    # the fuzzer got past authentication on every operation.
    for label, seen in statuses.items():
        assert set(seen) - {401, 403}, (label, seen)
    assert sum(seen[200] + seen[201] for seen in statuses.values()) > 0, statuses
