"""Checks of the services the settings point at: database, Redis, workers, Google."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from google.oauth2 import service_account
from redis.exceptions import RedisError
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from pelubot_web.config import current_config
from pelubot_web.deploy_check.findings import Finding, error, ok, warning
from pelubot_web.extensions import db
from pelubot_web.gcal import GoogleCalendarError
from pelubot_web.mail.transport import check_server, parse_smtp_url
from pelubot_web.models import Stylist
from pelubot_web.redis_client import get_redis
from pelubot_web.services import sync_status
from pelubot_web.services.errors import DeliveryError
from pelubot_web.tasks.runtime import calendar_gateway

WRITE_ROLES = ("owner", "writer")


def _short(exc: BaseException) -> str:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first_line}"[:200]


def check_database(app: Flask) -> Iterator[Finding]:
    cfg = current_config(app)
    if cfg.database_url.startswith("sqlite"):
        yield warning(
            "database",
            "SQLite in stage/prod: one host, one writer at a time; move to PostgreSQL "
            "(docs/operations.md, Moving off SQLite)",
        )
    else:
        yield ok("database", "PostgreSQL")
    with app.app_context():
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                current = set(MigrationContext.configure(conn).get_current_heads())
        except SQLAlchemyError as exc:
            yield error("database", f"cannot connect: {_short(exc)}")
            return
        finally:
            db.session.remove()
        heads = set(ScriptDirectory(app.extensions["migrate"].directory).get_heads())
    if current == heads:
        yield ok("migrations", f"database at head {', '.join(sorted(heads))}")
    else:
        shown = ", ".join(sorted(current)) or "empty"
        yield error(
            "migrations",
            f"database at {shown}, code expects {', '.join(sorted(heads))}: run `flask db upgrade`",
        )


def check_redis(app: Flask) -> Iterator[Finding]:
    try:
        get_redis(app).ping()
    except (RedisError, OSError) as exc:
        yield error("redis", f"cannot reach Redis: {_short(exc)}")
        return
    yield ok("redis", "Redis answers")


def check_worker(app: Flask) -> Iterator[Finding]:
    try:
        details = sync_status.check_worker(app)
    except RuntimeError as exc:
        yield error("worker", f"{exc}: start `python worker.py` (one or more)")
        return
    yield ok("worker", f"a worker reported {details['heartbeat_age_s']} s ago")


def check_mail(app: Flask) -> Iterator[Finding]:
    """Customers' emails: the SMTP server answers, TLS and login work (nothing is sent)."""
    cfg = current_config(app)
    if cfg.mail_backend != "smtp":
        yield warning(
            "mail",
            f"PELUBOT_MAIL_BACKEND={cfg.mail_backend}: customers get no confirmation or "
            "reminder emails",
        )
        return
    try:
        server = parse_smtp_url(cfg.smtp_url or "", cfg.smtp_timeout_s)
    except ValueError as exc:
        yield error("mail", f"PELUBOT_SMTP_URL: {exc}")
        return
    try:
        check_server(server)
    except DeliveryError as exc:
        yield error("mail", f"SMTP server {server.host}:{server.port}: {exc.message}")
        return
    yield ok("mail", f"SMTP server {server.host}:{server.port} accepts our session")


def check_google_credentials(app: Flask) -> Iterator[Finding]:
    cfg = current_config(app)
    if cfg.gcal_backend == "disabled":
        yield warning("google", "PELUBOT_GCAL_BACKEND=disabled: reservations are not mirrored")
        return
    if cfg.gcal_backend == "emulator":
        report = error if cfg.env == "prod" else warning
        yield report("google", "PELUBOT_GCAL_BACKEND=emulator: events go to the local emulator")
        return
    try:
        account = _service_account_email(cfg.gcal_credentials_file or "")
    except (OSError, ValueError) as exc:
        yield error("google", f"PELUBOT_GCAL_CREDENTIALS_FILE: {exc}")
        return
    yield ok("google", f"service account {account}")


def _service_account_email(path: str) -> str:
    """Parse the file as google-auth does at the first call, without calling Google."""
    try:
        with open(path, encoding="utf-8") as handle:
            info: dict[str, Any] = json.load(handle)
    except OSError as exc:
        raise OSError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError:
        raise ValueError(f"{path} is not JSON") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise ValueError(f"{path} is not a service account key (type != service_account)")
    try:
        credentials = service_account.Credentials.from_service_account_info(info)
    except (ValueError, KeyError) as exc:
        raise ValueError(f"{path} is not a usable service account key: {exc}") from None
    return str(credentials.service_account_email)


def check_calendar_access(app: Flask) -> Iterator[Finding]:
    """Online: each active stylist's calendar is shared with us with write access."""
    if current_config(app).gcal_backend == "disabled":
        yield warning("calendars", "backend disabled: calendar access not checked")
        return
    with app.app_context():
        try:
            stylists = db.session.scalars(select(Stylist).where(Stylist.active.is_(True))).all()
            yield from (_calendar_access(stylist) for stylist in stylists)
        except SQLAlchemyError as exc:
            yield error("calendars", f"cannot list stylists: {_short(exc)}")
        finally:
            db.session.remove()


def _calendar_access(stylist: Stylist) -> Finding:
    if not stylist.calendar_id:
        return warning("calendars", f"{stylist.slug}: no calendar id, bookings are not mirrored")
    try:
        role = calendar_gateway().access_role(stylist.calendar_id)
    except (GoogleCalendarError, ValueError) as exc:
        return error("calendars", f"{stylist.slug}: {stylist.calendar_id}: {_short(exc)}")
    if role in WRITE_ROLES:
        return ok("calendars", f"{stylist.slug}: {stylist.calendar_id} ({role})")
    return error(
        "calendars",
        f"{stylist.slug}: {stylist.calendar_id} is shared as {role}; "
        "share it with the service account with 'Make changes to events'",
    )
