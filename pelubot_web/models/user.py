"""Users of the staff portal and API keys of machine clients (the chatbot, ops tools)."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pelubot_web.extensions import db
from pelubot_web.models.catalog import Stylist
from pelubot_web.models.types import UTCDateTime, utcnow

ROLES = ("stylist", "admin", "ops", "reception")
API_SCOPES = ("booking", "ops")


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('stylist', 'admin', 'ops', 'reception')", name="role_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    stylist_id: Mapped[int | None] = mapped_column(ForeignKey("stylists.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)
    # Changes when the password changes, so old sessions stop working (Flask-Login id).
    session_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    stylist: Mapped[Stylist | None] = relationship()

    @property
    def login_token(self) -> str | None:
        """The device login this request came with (set at login or by the user loader)."""
        return getattr(self, "_login_token", None)

    @login_token.setter
    def login_token(self, value: str | None) -> None:
        self._login_token = value

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login
        """``<session_token>.<device token>``: the session and the remember-me cookie both
        carry it, so deleting the device's ``UserLogin`` row (logout) refuses a replay."""
        return f"{self.session_token}.{self.login_token or ''}"


class UserLogin(db.Model):  # type: ignore[name-defined,misc]
    """One logged-in device (browser session or remember-me cookie) of a portal user.

    Only the SHA-256 of the device token is stored. Logout deletes the row, so a copied
    ``remember_token`` cookie stops working; "sign out everywhere" deletes them all.
    """

    __tablename__ = "user_logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiKey(db.Model):  # type: ignore[name-defined,misc]
    """A machine client's key. Only a SHA-256 hash is stored; the key is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # First characters of the key, to recognise it in lists without revealing it.
    prefix: Mapped[str] = mapped_column(String(12))
    scopes: Mapped[str] = mapped_column(String(200))  # space-separated
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())
