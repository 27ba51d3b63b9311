"""Device logins of portal users: what makes a session or a remember-me cookie valid.

Flask-Login stores ``User.get_id()`` (``<session_token>.<device token>``) in the session
and in the remember-me cookie. Both halves must still be current: the user's
``session_token`` (rotated by a password change, a deactivation or "sign out
everywhere") and the device's ``UserLogin`` row (deleted at logout). Only the SHA-256 of
the device token is stored, so the table is useless to someone who reads it.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete, select
from werkzeug.security import check_password_hash

from pelubot_web.extensions import db
from pelubot_web.models import User, UserLogin
from pelubot_web.services.errors import WrongPassword
from pelubot_web.services.passwords import WeakPassword, hash_new_password

__all__ = [
    "change_password",
    "end_all_sessions",
    "end_login",
    "sign_out_everywhere",
    "start_login",
    "user_for_login_id",
]

MAX_LOGIN_ID_LENGTH = 200


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_login(user: User) -> str:
    """Open a login for this device (committed); ``user.get_id()`` now names it."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserLogin(user_id=user.id, token_hash=_digest(token)))
    db.session.commit()
    user.login_token = token
    return token


def user_for_login_id(login_id: str) -> User | None:
    """The active user whose session and device login this id names, else None."""
    if not login_id or len(login_id) > MAX_LOGIN_ID_LENGTH or "." not in login_id:
        return None
    session_token, token = login_id.split(".", 1)
    if not session_token or not token:
        return None
    row = db.session.execute(
        select(User, UserLogin.id)
        .join(UserLogin, UserLogin.user_id == User.id)
        .where(User.session_token == session_token, UserLogin.token_hash == _digest(token))
    ).first()
    if row is None or not row[0].active:
        return None
    user: User = row[0]
    user.login_token = token
    return user


def end_login(user: User) -> None:
    """Log this device out for good: its session and remember-me cookie stop working."""
    if user.login_token:
        db.session.execute(
            delete(UserLogin).where(
                UserLogin.user_id == user.id, UserLogin.token_hash == _digest(user.login_token)
            )
        )
        db.session.commit()
    user.login_token = None


def end_all_sessions(user: User) -> None:
    """Every device of this user must log in again (the caller commits)."""
    user.session_token = secrets.token_hex(32)
    db.session.execute(delete(UserLogin).where(UserLogin.user_id == user.id))
    user.login_token = None


def sign_out_everywhere(user: User) -> None:
    """End every session and remember-me cookie of this user, this device's too."""
    end_all_sessions(user)
    db.session.commit()


def change_password(user: User, current_password: str, new_password: str) -> str:
    """Set a new password (policy checked) after re-checking the current one.

    Every other device is logged out; returns a fresh login token for this device so
    the caller can keep it logged in. ``InvalidInput`` names the field at fault.
    """
    if not check_password_hash(user.password_hash, current_password):
        raise WrongPassword("the current password is not correct", field="current_password")
    if new_password == current_password:
        raise WeakPassword(
            "the new password must differ from the current one", field="new_password"
        )
    user.password_hash = hash_new_password(new_password, field="new_password")
    end_all_sessions(user)
    db.session.commit()
    return start_login(user)
