"""Demo staff logins and the chatbot's demo API key, for development only.

Credentials are fixed and documented (README, ``make run`` prints them), so a newcomer
can log in with every role at once. At every dev start they are put back to these values
(a password changed in the admin screen is reset, a revoked key reactivated): choosing
"reset deterministically" over "store and re-print" keeps no secret on disk and makes
the printed lines always true. Outside dev and test every function here refuses to run.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from werkzeug.security import check_password_hash

from pelubot_web.config import Config
from pelubot_web.extensions import db
from pelubot_web.models import ApiKey, Stylist, User
from pelubot_web.models.user import ROLES
from pelubot_web.services import accounts, user_admin
from pelubot_web.services.errors import DomainError

__all__ = [
    "DEMO_API_KEY",
    "DemoLogin",
    "DevOnly",
    "ensure_demo_api_key",
    "ensure_demo_logins",
    "refuse_outside_dev",
]

DEMO_DOMAIN = "peluqueria-demo.pelubot.es"
DEMO_API_KEY_NAME = "demo-chatbot"
DEMO_API_KEY = "pb_demo-chatbot-key-for-local-development-only"
DEMO_API_KEY_SCOPES = ["booking"]


class DevOnly(DomainError):
    """Demo credentials were asked for in stage or prod."""

    code = "dev_only"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    stylist_slug: str | None = None


def refuse_outside_dev(config: Config) -> None:
    """Demo logins and keys are public knowledge: never create them in stage or prod."""
    if config.is_production_like:
        raise DevOnly(
            f"demo logins and API keys are for development only (PELUBOT_ENV={config.env})"
        )


def _wanted_logins() -> list[DemoLogin]:
    """One login per role the User model allows; the stylist role gets one per stylist."""
    logins: list[DemoLogin] = []
    for role in ROLES:
        password = f"pelubot-{role}"
        if role != "stylist":
            logins.append(DemoLogin(role, f"{role}@{DEMO_DOMAIN}", password))
            continue
        for slug in db.session.scalars(select(Stylist.slug).order_by(Stylist.id)):
            logins.append(DemoLogin(role, f"{slug}@{DEMO_DOMAIN}", password, slug))
    return logins


def _ensure_login(login: DemoLogin) -> bool:
    """Create the user or put it back to the demo role and password; True if created."""
    user = db.session.scalar(select(User).where(User.email == login.email))
    if user is None:
        accounts.create_user(login.email, login.password, login.role, login.stylist_slug)
        return True
    stylist_id = None
    if login.stylist_slug is not None:
        stylist_id = db.session.scalar(select(Stylist.id).where(Stylist.slug == login.stylist_slug))
    unchanged = (
        user.active
        and user.role == login.role
        and user.stylist_id == stylist_id
        and check_password_hash(user.password_hash, login.password)
    )
    if not unchanged:
        # Only when something differs: a new password ends that user's sessions.
        user_admin.update_user(
            user.id,
            role=login.role,
            stylist_id=stylist_id,
            active=True,
            new_password=login.password,
        )
    return False


def ensure_demo_logins(config: Config) -> tuple[list[DemoLogin], int]:
    """Every demo login, as it now works; and how many users were created."""
    refuse_outside_dev(config)
    logins = _wanted_logins()
    created = sum(_ensure_login(login) for login in logins)
    return logins, created


def ensure_demo_api_key(config: Config) -> tuple[str, bool]:
    """The demo chatbot key (scope booking), created or reset; True if created."""
    refuse_outside_dev(config)
    key = db.session.scalar(select(ApiKey).where(ApiKey.name == DEMO_API_KEY_NAME))
    if key is None:
        accounts.create_api_key(DEMO_API_KEY_NAME, DEMO_API_KEY_SCOPES, secret=DEMO_API_KEY)
        return DEMO_API_KEY, True
    accounts.reset_api_key(key, DEMO_API_KEY_SCOPES, secret=DEMO_API_KEY)
    return DEMO_API_KEY, False
