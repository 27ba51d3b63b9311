"""``flask`` commands for operators: demo data, users, API keys."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from pelubot_web.extensions import db
from pelubot_web.models.user import API_SCOPES, ROLES
from pelubot_web.services import accounts, demo
from pelubot_web.services.errors import DomainError

users_cli = AppGroup("users", help="Manage portal users.")
api_keys_cli = AppGroup("api-keys", help="Manage API keys of machine clients.")


def _fail(exc: DomainError) -> None:
    db.session.rollback()
    raise click.ClickException(exc.message)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed when there are no stylists yet.")
def seed_demo_command(if_empty: bool) -> None:
    """Create the demo salon (idempotent: running it twice duplicates nothing)."""
    if if_empty and not demo.database_is_empty():
        click.echo("Database already has data; demo seed skipped.")
        return
    created = demo.seed_demo(current_app.extensions["pelubot_config"].tz)
    summary = ", ".join(f"{count} {what}" for what, count in created.items())
    click.echo(f"Demo salon ready (created: {summary}).")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 10 characters.")
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


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(api_keys_cli)
