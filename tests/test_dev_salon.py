"""`flask dev-salon` (what `make run` seeds): logins per role, the demo key, a busy week."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import func, select

from pelubot_web import create_app
from pelubot_web.config import Config, current_config
from pelubot_web.extensions import db
from pelubot_web.models import ApiKey, Reservation, User, WorkingHours
from pelubot_web.models.user import ROLES
from pelubot_web.observability import quiet_alembic
from pelubot_web.services import accounts, demo, demo_staff, demo_week, user_admin
from tests.web.conftest import login

MADRID = ZoneInfo("Europe/Madrid")
# A Wednesday at noon, far from the salon's Christmas closures.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=MADRID)


@pytest.fixture(autouse=True)
def _own_redis(redis_conn: Redis) -> None:
    """Bookings enqueue sync jobs and logins count rate limits: start from an empty db."""


def _printed_logins(output: str) -> list[tuple[str, str, str]]:
    lines = output.split("Demo logins", 1)[1].splitlines()[1:]
    return [tuple(line.split()) for line in lines if line.startswith("  ")]  # type: ignore[misc]


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_every_role_gets_a_demo_login_that_works(app: Flask) -> None:
    demo.seed_demo(MADRID)
    config = current_config(app)

    logins, created = demo_staff.ensure_demo_logins(config)

    assert created == len(logins)
    assert {login.role for login in logins} == set(ROLES)
    assert [x.stylist_slug for x in logins if x.role == "stylist"] == [
        s.slug for s in demo.STYLISTS
    ]
    for demo_login in logins:
        login(app.test_client(), demo_login.email, demo_login.password)


def test_a_changed_demo_password_is_reset_at_the_next_start(app: Flask) -> None:
    demo.seed_demo(MADRID)
    config = current_config(app)
    logins, _ = demo_staff.ensure_demo_logins(config)
    admin = db.session.scalar(select(User).where(User.role == "admin"))
    assert admin is not None
    user_admin.update_user(
        admin.id, role="admin", stylist_id=None, active=False, new_password="changed-by-hand"
    )

    again, created = demo_staff.ensure_demo_logins(config)

    assert (again, created) == (logins, 0)
    demo_admin = next(x for x in again if x.role == "admin")
    assert accounts.authenticate(demo_admin.email, demo_admin.password) is not None


def test_the_demo_key_is_a_booking_key_even_after_it_was_revoked(app: Flask) -> None:
    config = current_config(app)
    key, created = demo_staff.ensure_demo_api_key(config)
    assert created
    stored = db.session.scalar(select(ApiKey))
    assert stored is not None
    stored.active = False
    db.session.commit()

    assert demo_staff.ensure_demo_api_key(config) == (key, False)

    principal = accounts.principal_for_key(key, bootstrap_key=None)
    assert principal is not None
    assert principal.scopes == {"booking"}
    assert _count(ApiKey) == 1


@pytest.mark.parametrize("env", ["stage", "prod"])
def test_demo_logins_and_keys_are_refused_outside_dev(config: Config, app: Flask, env: str) -> None:
    production = create_app(
        config.replace(
            env=env, api_key="prod-api-key-" + "9f3a" * 8, secret_key="prod-secret-" + "c4e1" * 8
        ).validated()
    )

    with production.app_context():
        result = production.test_cli_runner().invoke(args=["dev-salon"])
        cfg = current_config(production)
        with pytest.raises(demo_staff.DevOnly, match="development only"):
            demo_staff.ensure_demo_logins(cfg)
        with pytest.raises(demo_staff.DevOnly, match="development only"):
            demo_staff.ensure_demo_api_key(cfg)

    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1
    assert "development only" in result.output
    assert _count(User) == _count(ApiKey) == _count(Reservation) == 0


@pytest.mark.slow  # books a whole demo week twice
def test_dev_salon_prints_working_logins_and_a_second_start_duplicates_nothing(
    app: Flask,
) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["dev-salon"])
    assert first.exit_code == 0, first.output
    counts = [_count(model) for model in (User, ApiKey, Reservation)]
    assert counts[2] >= 12 * 5

    again = runner.invoke(args=["dev-salon"])

    assert again.exit_code == 0, again.output
    assert "new: 0 services, 0 stylists, 0 closures, 0 logins, 0 API keys, 0 reservations" in (
        again.output
    )
    assert [_count(model) for model in (User, ApiKey, Reservation)] == counts
    logins = _printed_logins(again.output)
    assert {role for role, _, _ in logins} == set(ROLES)
    for _, email, password in logins:
        login(app.test_client(), email, password)
    key = again.output.split("Demo chatbot API key", 1)[1].split()[-1]
    assert accounts.principal_for_key(key, bootstrap_key=None) is not None


# One day of the demo week, at noon: past, current and future appointments
# without booking the whole week (``make run``'s week is covered by the slow tests).
DAYS = [NOW.date()]


def _seed_days(app: Flask) -> list[Reservation]:
    demo.seed_demo(MADRID, today=NOW.date())
    demo_week.seed_demo_week(MADRID, now=NOW, days=DAYS)
    return list(db.session.scalars(select(Reservation).order_by(Reservation.start_at)))


def _local_day(reservation: Reservation) -> date:
    return reservation.start_at.astimezone(MADRID).date()


def test_the_demo_week_runs_from_monday_to_a_week_ahead() -> None:
    days = demo_week.demo_week_days(NOW.date())
    assert days[0] == date(2026, 11, 23)
    assert days[-1] == NOW.date() + timedelta(days=6)
    assert days == [days[0] + timedelta(days=n) for n in range(len(days))]


def test_demo_days_look_like_a_working_salon(app: Flask) -> None:
    reservations = _seed_days(app)

    for day in DAYS:
        count = sum(_local_day(r) == day for r in reservations)
        assert count >= 12, f"{day}: only {count} reservations"
    now = NOW.astimezone(UTC)
    past = [r for r in reservations if r.end_at <= now]
    future = [r for r in reservations if r.start_at > now]
    assert past
    assert future
    assert {r.status for r in past} == {"completed", "no_show"}
    assert {r.status for r in future} == {"confirmed"}
    assert all(r.sync_job_id is not None for r in reservations), "every one is in the outbox"

    assert demo_week.seed_demo_week(MADRID, now=NOW, days=DAYS) == {
        "reservations": 0,
        "closed": 0,
    }
    assert _count(Reservation) == len(reservations)


def test_demo_days_respect_working_hours_and_never_overlap(app: Flask) -> None:
    reservations = _seed_days(app)

    hours = db.session.scalars(select(WorkingHours)).all()
    last_busy: dict[int, datetime] = {}
    for r in reservations:
        start, end = r.start_at.astimezone(MADRID), r.end_at.astimezone(MADRID)
        assert any(
            h.stylist_id == r.stylist_id
            and h.weekday == start.weekday()
            and h.start_time <= start.time()
            and end.time() <= h.end_time
            for h in hours
        ), f"{r.stylist.slug} {start:%a %H:%M} is outside working hours"
        assert r.start_at >= last_busy.get(r.stylist_id, r.start_at), "overlap"
        last_busy[r.stylist_id] = r.busy_until


def test_alembic_chatter_is_dropped_but_applied_migrations_are_kept() -> None:

    def record(name: str, msg: str, level: int = logging.INFO) -> logging.LogRecord:
        return logging.makeLogRecord({"name": name, "msg": msg, "levelno": level})

    assert not quiet_alembic(record("alembic.runtime.plugins", "setup plugin x"))
    assert not quiet_alembic(record("alembic.runtime.migration", "Context impl SQLiteImpl."))
    assert quiet_alembic(record("alembic.runtime.migration", "Running upgrade  -> 0001, x"))
    assert quiet_alembic(record("alembic.env", "something odd", logging.WARNING))
    assert quiet_alembic(record("pelubot.worker", "setup plugin is our own word"))
