"""``flask`` commands for operators: demo data, users, API keys, sync, notifications."""

from __future__ import annotations

from collections import Counter
from typing import NoReturn, TextIO

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from pelubot_web import data_transfer, deploy_check
from pelubot_web.config import current_config
from pelubot_web.extensions import db
from pelubot_web.models import Stylist
from pelubot_web.models.outbox import OutboxStatus
from pelubot_web.models.user import API_SCOPES, ROLES
from pelubot_web.services import (
    accounts,
    calendar_health,
    demo,
    demo_staff,
    demo_week,
    notifications,
    notify_status,
    shared_cache,
    sync_status,
    webhooks,
)
from pelubot_web.services.errors import DomainError

users_cli = AppGroup("users", help="Manage portal users.")
api_keys_cli = AppGroup("api-keys", help="Manage API keys of machine clients.")
sync_cli = AppGroup("sync", help="Inspect and recover the calendar sync queue.")
# Not "db": that group belongs to Flask-Migrate (schema); this one copies rows.
data_cli = AppGroup("data", help="Copy every row between databases (e.g. SQLite to PostgreSQL).")


def _fail(exc: DomainError) -> NoReturn:
    db.session.rollback()
    raise click.ClickException(exc.message)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed when there are no stylists yet.")
def seed_demo_command(if_empty: bool) -> None:
    """Create the demo salon (idempotent: running it twice duplicates nothing)."""
    if if_empty and not demo.database_is_empty():
        click.echo("Database already has data; demo seed skipped.")
        return
    created = demo.seed_demo(current_config().tz)
    summary = ", ".join(f"{count} {what}" for what, count in created.items())
    click.echo(f"Demo salon ready (created: {summary}).")


@click.command("dev-salon")
def dev_salon_command() -> None:
    """Dev only: demo salon, a login per role, the chatbot's demo key, a busy week.

    Idempotent; prints the logins and the key (``make run`` calls it at every start).
    Refuses in stage and prod.
    """
    cfg = current_config()
    try:
        demo_staff.refuse_outside_dev(cfg)
    except DomainError as exc:
        _fail(exc)
    created = demo.seed_demo(cfg.tz)
    logins, created["logins"] = demo_staff.ensure_demo_logins(cfg)
    key, key_created = demo_staff.ensure_demo_api_key(cfg)
    created["API keys"] = int(key_created)
    created.update(demo_week.seed_demo_week(cfg.tz))
    summary = ", ".join(f"{count} {what}" for what, count in created.items())
    click.echo(f"Demo salon ready (new: {summary}).")
    click.echo("Demo logins (dev only; reset to these at every dev start):")
    for login in logins:
        click.echo(f"  {login.role:<10} {login.email:<40} {login.password}")
    click.echo(f"Demo chatbot API key (X-API-Key, scope booking): {key}")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 10 characters, not a common password.")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--stylist", "stylist_slug", default=None, help="Stylist slug (role stylist).")
def create_user_command(email: str, password: str, role: str, stylist_slug: str | None) -> None:
    """Create a portal user."""
    try:
        user = accounts.create_user(email, password, role, stylist_slug)
    except DomainError as exc:
        _fail(exc)
        return
    click.echo(f"Created {user.role} user {user.email}.")


@api_keys_cli.command("create")
@click.option("--name", required=True)
@click.option("--scope", "scopes", required=True, multiple=True, type=click.Choice(API_SCOPES))
def create_api_key_command(name: str, scopes: tuple[str, ...]) -> None:
    """Create an API key. The key is printed once; only its hash is stored."""
    try:
        created = accounts.create_api_key(name, list(scopes))
    except DomainError as exc:
        _fail(exc)
        return
    click.echo(f"API key {created.api_key.name!r} ({created.api_key.scopes}):")
    click.echo(created.secret)
    click.echo("Store it now: it cannot be shown again.", err=True)


@api_keys_cli.command("list")
def list_api_keys_command() -> None:
    """Every key: id, name, scopes, first characters, state and last use (never the key)."""
    keys = accounts.list_api_keys()
    if not keys:
        click.echo("No API keys.")
        return
    for key in keys:
        state = "active" if key.active else "revoked"
        used = key.last_used_at.isoformat(timespec="minutes") if key.last_used_at else "never"
        click.echo(f"#{key.id} {key.name} [{key.scopes}] {key.prefix}… {state}, last used {used}")


@api_keys_cli.command("revoke")
@click.argument("key")
def revoke_api_key_command(key: str) -> None:
    """Revoke a key by id or name; clients using it get 401 from their next request."""
    try:
        revoked = accounts.revoke_api_key(key)
    except DomainError as exc:
        _fail(exc)
        return
    click.echo(f"Revoked API key #{revoked.id} {revoked.name!r}.")


@sync_cli.command("status")
@click.option("--failed", "show_failed", default=10, show_default=True, help="Failed jobs to list.")
def sync_status_command(show_failed: int) -> None:
    """Outbox counters, oldest pending age, worker heartbeat and the latest failures."""
    snap = sync_status.queue_snapshot()
    by_status: dict[str, int] = snap["by_status"]  # type: ignore[assignment]
    click.echo("Calendar sync outbox:")
    for status, count in by_status.items():
        click.echo(f"  {status:<11} {count}")
    click.echo(f"Oldest unsynced change: {snap['oldest_pending_age_s']:.0f} s ago")
    age = snap["worker_heartbeat_age_s"]
    click.echo(
        "Workers: none has reported" if age is None else f"Last worker heartbeat: {age:.0f} s ago"
    )
    _echo_calendar_problems()
    if show_failed and by_status.get(OutboxStatus.FAILED):
        jobs, total = sync_status.list_jobs(status=OutboxStatus.FAILED, limit=min(show_failed, 100))
        click.echo(f"Failed jobs ({total}):")
        for job in jobs:
            error = (job.last_error or "").splitlines()[0][:100] if job.last_error else ""
            click.echo(
                f"  #{job.id} reservation {job.reservation.uuid} attempts={job.attempts} {error}"
            )


def _echo_calendar_problems() -> None:
    problems = calendar_health.stylist_calendar_health(problems_only=True)
    if not problems:
        click.echo("Stylist calendars: all imports and pushes working")
        return
    click.echo("Stylist calendars with problems:")
    for entry in problems:
        if entry.pull_failing:
            since = (
                entry.pull_failing_since.isoformat(timespec="minutes")
                if (entry.pull_failing_since)
                else "?"
            )
            click.echo(
                f"  {entry.slug}: busy-time import failing since {since}: {entry.pull_error}"
            )
        if entry.failed_pushes:
            click.echo(
                f"  {entry.slug}: {entry.failed_pushes} failed sync(s): {entry.last_push_error}"
            )


@sync_cli.command("retry-failed")
def sync_retry_failed_command() -> None:
    """Send every failed job back to the queue with a fresh attempt budget."""
    count = sync_status.retry_all_failed()
    click.echo(f"Re-queued {count} failed job(s).")


@sync_cli.command("resync")
@click.option("--stylist", "stylist_slug", default=None, help="Only this stylist (slug).")
def sync_resync_command(stylist_slug: str | None) -> None:
    """Queue every upcoming reservation again (e.g. after a calendar was emptied by hand)."""
    stylist_id = None
    if stylist_slug:
        stylist = db.session.scalar(select(Stylist).where(Stylist.slug == stylist_slug))
        if stylist is None:
            raise click.ClickException(f"no stylist with slug {stylist_slug!r}")
        stylist_id = stylist.id
    count = sync_status.resync_upcoming(stylist_id)
    click.echo(f"Queued {count} upcoming reservation(s) for calendar sync.")


@sync_cli.command("retry")
@click.argument("job_id", type=int)
def sync_retry_command(job_id: int) -> None:
    """Retry one job by id."""
    try:
        job = sync_status.retry_job(job_id)
    except DomainError as exc:
        _fail(exc)
        return
    click.echo(f"Job #{job.id} is {job.status}.")


notify_cli = AppGroup("notify", help="Inspect and recover customer notifications.")
webhooks_cli = AppGroup("webhooks", help="Manage webhook endpoints.")


@notify_cli.command("status")
@click.option("--failed", "show_failed", default=10, show_default=True, help="Failed rows to list.")
def notify_status_command(show_failed: int) -> None:
    """Notification counters by status and by kind × channel, and the latest failures."""
    snapshot = notify_status.counts()
    click.echo("Notifications:")
    for status, count in snapshot.by_status.items():
        click.echo(f"  {status:<11} {count}")
    for (kind, channel), statuses in snapshot.by_kind_channel.items():
        detail = ", ".join(f"{s}={n}" for s, n in sorted(statuses.items()))
        click.echo(f"  {kind}/{channel}: {detail}")
    if show_failed and snapshot.by_status.get("failed"):
        failed, total = notify_status.list_notifications(status="failed", limit=show_failed)
        click.echo(f"Failed ({total}):")
        for row in failed:
            click.echo(
                f"  #{row.id} {row.kind}/{row.channel} reservation {row.reservation.uuid} "
                f"attempts={row.attempts} {(row.last_error or '')[:100]}"
            )


@notify_cli.command("retry-failed")
def notify_retry_failed_command() -> None:
    """Send every failed notification again with a fresh attempt budget."""
    ids = notifications.retry()
    click.echo(f"Re-queued {len(ids)} failed notification(s).")


@webhooks_cli.command("add")
@click.option("--url", required=True)
@click.option("--secret", default=None, help="Signing secret (made for you when omitted).")
@click.option("--event", "events", multiple=True, type=click.Choice(webhooks.EVENT_TYPE_NAMES))
def webhooks_add_command(url: str, secret: str | None, events: tuple[str, ...]) -> None:
    """Register an endpoint (all events unless --event is given)."""
    try:
        endpoint = webhooks.add_endpoint(url, secret, list(events))
    except DomainError as exc:
        _fail(exc)
        return
    click.echo(
        f"Webhook endpoint #{endpoint.id} {endpoint.url} ({endpoint.event_types or 'all events'})"
    )
    if not secret:
        click.echo(f"Signing secret: {endpoint.secret}")


@webhooks_cli.command("list")
def webhooks_list_command() -> None:
    """Endpoints with their events and state."""
    for endpoint in webhooks.list_endpoints():
        state = "active" if endpoint.active else f"disabled ({endpoint.disabled_reason})"
        click.echo(
            f"#{endpoint.id} {endpoint.url} [{endpoint.event_types or 'all events'}] {state}"
        )


@webhooks_cli.command("remove")
@click.argument("endpoint_id", type=int)
def webhooks_remove_command(endpoint_id: int) -> None:
    """Delete an endpoint and its delivery history."""
    try:
        webhooks.remove_endpoint(endpoint_id)
    except DomainError as exc:
        _fail(exc)
        return
    click.echo(f"Removed webhook endpoint #{endpoint_id}.")


@data_cli.command("export")
@click.argument("path", type=click.File("w", encoding="utf-8", lazy=False))
def data_export_command(path: TextIO) -> None:
    """Write every row of this database to PATH (JSON lines; - for stdout)."""
    counts = data_transfer.export_data(db.engine, path)
    click.echo(f"Exported {sum(counts.values())} rows of {len(counts)} tables.", err=True)


@data_cli.command("import")
@click.argument("path", type=click.File("r", encoding="utf-8"))
def data_import_command(path: TextIO) -> None:
    """Insert every row of an export into this empty, migrated database (- for stdin)."""
    try:
        counts = data_transfer.import_data(db.engine, path)
    except data_transfer.TransferError as exc:
        raise click.ClickException(str(exc)) from None
    # Rows written outside the ORM session: running processes must re-read what they cache.
    shared_cache.invalidate(*shared_cache.DROPPED_BY)
    for table, count in counts.items():
        click.echo(f"  {table:<24} {count}")
    click.echo(f"Imported {sum(counts.values())} rows of {len(counts)} tables.")


@click.command("deploy-check")
@click.option("--online", is_flag=True, help="Also call Google: each stylist's calendar access.")
@with_appcontext
def deploy_check_command(online: bool) -> None:
    """Run the deployment checklist; exit status 1 when any finding is an error."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    findings = deploy_check.run_checks(app, online=online)
    for finding in findings:
        click.echo(finding.line())
    counts = Counter(finding.severity for finding in findings)
    click.echo(f"{counts[deploy_check.ERROR]} error(s), {counts[deploy_check.WARNING]} warning(s)")
    if deploy_check.has_errors(findings):
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(dev_salon_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(api_keys_cli)
    app.cli.add_command(sync_cli)
    app.cli.add_command(notify_cli)
    app.cli.add_command(webhooks_cli)
    app.cli.add_command(deploy_check_command)
    app.cli.add_command(data_cli)
