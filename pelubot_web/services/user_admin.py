"""Admin edits of portal users (creation itself is ``accounts.create_user``)."""

from __future__ import annotations

from sqlalchemy import select

from pelubot_web.extensions import db
from pelubot_web.models import Stylist, User
from pelubot_web.models.user import ROLES
from pelubot_web.services import accounts, logins
from pelubot_web.services.errors import (
    DomainError,
    InvalidInput,
    NotFound,
    OwnAdminAccess,
    StylistRequired,
)
from pelubot_web.services.passwords import hash_new_password

__all__ = ["create_user", "get_user", "list_users", "update_user"]


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)).all())


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def _stylist_slug(stylist_id: int | None) -> str | None:
    if stylist_id is None:
        return None
    stylist = db.session.get(Stylist, stylist_id)
    if stylist is None:
        raise NotFound(f"stylist {stylist_id} does not exist", field="stylist_id")
    return stylist.slug


def create_user(email: str, password: str, role: str, stylist_id: int | None) -> User:
    """Create a portal user linked by stylist id; errors name the admin form's fields."""
    try:
        return accounts.create_user(email, password, role, _stylist_slug(stylist_id))
    except DomainError as error:
        if error.field == "stylist":  # accounts speaks of the CLI's --stylist SLUG
            error.field = "stylist_id"
        raise


def update_user(
    user_id: int,
    *,
    role: str,
    stylist_id: int | None,
    active: bool,
    new_password: str | None = None,
    acting_user_id: int | None = None,
) -> User:
    """Change a user's role, stylist link, active flag and (optionally) password.

    A new password or a deactivation rotates the session token, which ends every
    session of that user. Admins cannot lock themselves out.
    """
    user = get_user(user_id)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    slug = _stylist_slug(stylist_id)
    if role == "stylist" and slug is None:
        raise StylistRequired("a stylist user must be linked to a stylist", field="stylist_id")
    if user.id == acting_user_id and (role != "admin" or not active):
        raise OwnAdminAccess("you cannot remove your own admin access", field="role")
    if new_password:
        user.password_hash = hash_new_password(new_password, field="new_password")
    if new_password or (user.active and not active):
        logins.end_all_sessions(user)
    user.role = role
    user.stylist_id = stylist_id
    user.active = active
    db.session.commit()
    return user
