"""Operator commands: demo salon, users, API keys."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from pelubot_web.extensions import db
from pelubot_web.models import (
    ApiKey,
    SalonClosure,
    Service,
    Stylist,
    StylistService,
    TimeOff,
    User,
    WorkingHours,
)
from pelubot_web.services.accounts import hash_api_key, principal_for_key


def _counts() -> dict[str, int]:
    models = [Service, Stylist, StylistService, WorkingHours, TimeOff, SalonClosure]
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) or 0 for m in models}


def test_seed_demo_builds_a_realistic_salon_and_is_idempotent(runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    counts = _counts()
    assert counts["Stylist"] == 4
    assert counts["Service"] == 8
    assert counts["TimeOff"] >= 4
    assert counts["SalonClosure"] >= 2

    stylists = db.session.scalars(select(Stylist)).all()
    assert all(s.calendar_id for s in stylists)
    overrides = db.session.scalars(
        select(StylistService).where(StylistService.duration_min.is_not(None))
    ).all()
    assert overrides, "some stylists have their own duration for a service"
    lunch = db.session.scalars(
        select(WorkingHours).where(WorkingHours.stylist_id == stylists[0].id)
    ).all()
    assert len({(h.weekday) for h in lunch}) < len(lunch), "days are split by a lunch break"

    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert _counts() == counts


def test_seed_demo_if_empty_skips_a_database_with_data(runner: FlaskCliRunner) -> None:
    runner.invoke(args=["seed-demo"])
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "skipped" in result.output


def test_users_create_hashes_the_password(runner: FlaskCliRunner) -> None:
    runner.invoke(args=["seed-demo"])
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Lucia@Salon.es",
            "--password",
            "una-clave-larga",
            "--role",
            "stylist",
            "--stylist",
            "lucia",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "lucia@salon.es"))
    assert user is not None
    assert user.stylist is not None
    assert user.stylist.slug == "lucia"
    assert "una-clave-larga" not in user.password_hash


def test_users_create_rejects_bad_input_and_changes_nothing(runner: FlaskCliRunner) -> None:
    cases = [
        ["--email", "not-an-email", "--password", "una-clave-larga", "--role", "admin"],
        ["--email", "a@b.es", "--password", "corta", "--role", "admin"],
        ["--email", "a@b.es", "--password", "una-clave-larga", "--role", "stylist"],
        ["--email", "a@b.es", "--password", "una-clave-larga", "--role", "boss"],
    ]
    for args in cases:
        result = runner.invoke(args=["users", "create", *args])
        assert result.exit_code != 0
        assert "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0

    ok = ["--email", "a@b.es", "--password", "una-clave-larga", "--role", "ops"]
    assert runner.invoke(args=["users", "create", *ok]).exit_code == 0
    again = runner.invoke(args=["users", "create", *ok])
    assert again.exit_code != 0
    assert "already exists" in again.output


def test_api_keys_create_prints_the_key_once_and_stores_only_its_hash(
    runner: FlaskCliRunner,
) -> None:
    result = runner.invoke(args=["api-keys", "create", "--name", "chatbot", "--scope", "booking"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    assert secret.startswith("pb_")
    assert len(secret) > 40
    key = db.session.scalar(select(ApiKey).where(ApiKey.name == "chatbot"))
    assert key is not None
    assert key.key_hash == hash_api_key(secret)
    assert secret not in (key.key_hash, key.scopes, key.prefix)

    principal = principal_for_key(secret, bootstrap_key=None)
    assert principal is not None
    assert principal.scopes == {"booking"}
    assert principal_for_key(secret + "x", bootstrap_key=None) is None


def test_api_keys_create_rejects_unknown_scope(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["api-keys", "create", "--name", "x", "--scope", "root"])
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 0


def _create_key(runner: FlaskCliRunner, name: str) -> str:
    result = runner.invoke(args=["api-keys", "create", "--name", name, "--scope", "booking"])
    assert result.exit_code == 0, result.output
    return str(result.stdout.strip().splitlines()[-1])


def test_api_keys_list_shows_keys_but_never_the_secret(runner: FlaskCliRunner) -> None:
    secret = _create_key(runner, "chatbot")
    listed = runner.invoke(args=["api-keys", "list"])
    assert listed.exit_code == 0, listed.output
    assert "chatbot" in listed.output
    assert "active" in listed.output
    assert "last used never" in listed.output
    assert secret not in listed.output


def test_api_keys_revoke_by_name_or_id_refuses_the_key(runner: FlaskCliRunner) -> None:
    first = _create_key(runner, "old-bot")
    second = _create_key(runner, "other-bot")
    assert runner.invoke(args=["api-keys", "revoke", "old-bot"]).exit_code == 0
    assert principal_for_key(first, bootstrap_key=None) is None
    key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.name == "other-bot"))
    assert runner.invoke(args=["api-keys", "revoke", str(key_id)]).exit_code == 0
    assert principal_for_key(second, bootstrap_key=None) is None
    assert "revoked" in runner.invoke(args=["api-keys", "list"]).output
    for unknown in ("nobody", "99999999999999999999", "0"):
        missing = runner.invoke(args=["api-keys", "revoke", unknown])
        assert missing.exit_code != 0
        assert "no API key" in missing.output


def test_api_key_last_use_is_recorded_at_most_once_a_minute(runner: FlaskCliRunner) -> None:
    secret = _create_key(runner, "chatbot")
    assert principal_for_key(secret, bootstrap_key=None) is not None
    db.session.rollback()
    key = db.session.scalar(select(ApiKey).where(ApiKey.name == "chatbot"))
    assert key is not None
    first_use = key.last_used_at
    assert first_use is not None
    assert principal_for_key(secret, bootstrap_key=None) is not None
    db.session.rollback()
    assert db.session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key.id)) == first_use
    # A minute later the next call moves it forward.
    key.last_used_at = first_use - timedelta(minutes=2)
    db.session.commit()
    assert principal_for_key(secret, bootstrap_key=None) is not None
    db.session.rollback()
    later = db.session.scalar(select(ApiKey.last_used_at).where(ApiKey.id == key.id))
    assert later is not None
    assert later > first_use - timedelta(minutes=2)
