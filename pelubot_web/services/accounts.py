"""Portal users and API keys."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import check_password_hash

from pelubot_web.extensions import db
from pelubot_web.inputs import MAX_DB_INT
from pelubot_web.models import ApiKey, Stylist, User
from pelubot_web.models.types import utcnow
from pelubot_web.models.user import API_SCOPES, ROLES
from pelubot_web.services.errors import Conflict, EmailTaken, InvalidInput, NotFound
from pelubot_web.services.passwords import hash_new_password, hash_password
from pelubot_web.services.shared_cache import SharedCache, shared_cache

log = logging.getLogger(__name__)
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Every write through the ORM session invalidates the key cache at once (while Redis is
# up); the TTL bounds only what no invalidation announces: a write outside the app (psql,
# a restore) or one made while this process could not see Redis's counter. Short, since a
# reload is one indexed read per key and process every 10 s.
API_KEY_CACHE_TTL_S = 10.0
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
API_KEY_PREFIX = "pb_"


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidInput(f"not a valid email address: {email!r}", field="email")
    return email


def create_user(email: str, password: str, role: str, stylist_slug: str | None = None) -> User:
    """Create a portal user. A stylist user must be linked to a stylist."""
    email = normalize_email(email)
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    password_hash = hash_new_password(password)
    stylist = None
    if stylist_slug:
        stylist = db.session.scalar(select(Stylist).where(Stylist.slug == stylist_slug))
        if stylist is None:
            raise NotFound(f"no stylist with slug {stylist_slug!r}", field="stylist")
    if role == "stylist" and stylist is None:
        raise InvalidInput("a stylist user needs --stylist SLUG", field="stylist")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise EmailTaken(f"a user with email {email} already exists", field="email")
    user = User(
        email=email,
        password_hash=password_hash,
        role=role,
        stylist=stylist,
        session_token=secrets.token_hex(32),
    )
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same answer for every failure)."""
    try:
        email = normalize_email(email)
    except InvalidInput:
        return None
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.active:
        # Hash anyway so a missing user takes as long as a wrong password.
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CreatedApiKey:
    api_key: ApiKey
    secret: str  # shown once, never stored


def _check_scopes(scopes: list[str]) -> str:
    bad = [s for s in scopes if s not in API_SCOPES]
    if bad or not scopes:
        raise InvalidInput(f"scopes must be among {', '.join(API_SCOPES)}", field="scope")
    return " ".join(sorted(set(scopes)))


def create_api_key(name: str, scopes: list[str], *, secret: str | None = None) -> CreatedApiKey:
    """Create a key; a random secret unless one is given (the dev demo key is fixed)."""
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("name must be 1-120 characters", field="name")
    scope_text = _check_scopes(scopes)
    if db.session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise Conflict(f"an API key named {name!r} already exists", field="name")
    secret = secret or API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, key_hash=hash_api_key(secret), prefix=secret[:10], scopes=scope_text)
    db.session.add(key)
    db.session.commit()
    return CreatedApiKey(api_key=key, secret=secret)


def list_api_keys() -> list[ApiKey]:
    """Every API key, active first, then by name (hashes only; secrets are never kept)."""
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.active.desc(), ApiKey.name)))


def revoke_api_key(name_or_id: str | int) -> ApiKey:
    """Revoke a key by id or name; its next request is a 401. Revoking twice is harmless."""
    query = select(ApiKey)
    if isinstance(name_or_id, int) or str(name_or_id).isdigit():
        key_id = int(name_or_id)
        if not 0 < key_id <= MAX_DB_INT:
            raise NotFound(f"no API key {name_or_id!r}", field="key")
        query = query.where(ApiKey.id == key_id)
    else:
        query = query.where(ApiKey.name == str(name_or_id).strip())
    key = db.session.scalar(query)
    if key is None:
        raise NotFound(f"no API key {name_or_id!r}", field="key")
    key.active = False
    db.session.commit()
    return key


def reset_api_key(key: ApiKey, scopes: list[str], *, secret: str) -> None:
    """Give an existing key this secret and these scopes, and make it active again."""
    key.key_hash = hash_api_key(secret)
    key.prefix = secret[:10]
    key.scopes = _check_scopes(scopes)
    key.active = True
    db.session.commit()


@dataclass(frozen=True)
class Principal:
    """Who is calling the API: a stored key, the bootstrap key, or local dev without auth."""

    name: str
    scopes: frozenset[str]
    key_id: int | None = None

    @property
    def rate_limit_key(self) -> str:
        return f"key:{self.key_id}" if self.key_id is not None else f"principal:{self.name}"


def principal_for_key(presented: str, bootstrap_key: str | None) -> Principal | None:
    """Resolve an ``X-API-Key`` value. Comparisons are constant-time.

    A stored key is looked up in the per-process cache by its digest (never the
    secret); a use is recorded at most once a minute per key, cache hit or not.
    """
    if not presented or len(presented) > 200:
        return None
    if bootstrap_key and hmac.compare_digest(
        presented.encode("utf-8"), bootstrap_key.encode("utf-8")
    ):
        return Principal(name="bootstrap", scopes=frozenset(API_SCOPES))
    digest = hash_api_key(presented)
    try:
        known = _api_key_cache().get(digest, lambda: _load_known_key(digest))
    except _UnknownDigest:
        return None
    if known is None:
        return None
    _record_use(known)
    return known.principal


# --- the per-process cache of stored keys -------------------------------------------------
# Cached: every digest that matches a row, active (its principal) or revoked (None), so
# the cache is bounded by the api_keys table. Not cached: digests matching no row, which
# anyone can vary at will; each such call reads the database, as it always did.


@dataclass
class _KnownKey:
    """An active stored key as cached; ``last_used_at`` moves when this process records a use."""

    principal: Principal
    key_id: int
    last_used_at: datetime | None


class _UnknownDigest(Exception):
    """Raised inside the cache's load so that a digest matching no row is not stored."""


def _api_key_cache() -> SharedCache:
    # "bypass": without Redis every call reads the database, so a revocation is never
    # missed; the TTL only bounds writes no invalidation announces (see the constant).
    return shared_cache("api-keys", API_KEY_CACHE_TTL_S, redis_down="bypass")


def _load_known_key(digest: str) -> _KnownKey | None:
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        raise _UnknownDigest
    if not key.active:
        return None
    principal = Principal(name=key.name, scopes=key.scope_set, key_id=key.id)
    return _KnownKey(principal=principal, key_id=key.id, last_used_at=key.last_used_at)


def _record_use(known: _KnownKey) -> None:
    """Record use at most once a minute per key, in its own short transaction.

    The conditional UPDATE makes concurrent requests of several processes write once;
    a failure (database busy) never fails the API call it accompanies. Called during
    authentication, before the request has written anything.
    """
    now = utcnow()
    if known.last_used_at is not None and now - known.last_used_at < LAST_USED_RESOLUTION:
        return
    session = db.session()
    if session.new or session.dirty or session.deleted:
        return  # never end someone's unit of work; the next call records the use
    # End the session's read transaction first: on SQLite a WAL read snapshot older than
    # this commit could not be upgraded to a write later in the same request.
    session.commit()
    try:
        with db.engine.begin() as conn:
            conn.execute(
                update(ApiKey)
                .where(
                    ApiKey.id == known.key_id,
                    or_(
                        ApiKey.last_used_at.is_(None),
                        ApiKey.last_used_at < now - LAST_USED_RESOLUTION,
                    ),
                )
                .values(last_used_at=now)
            )
    except SQLAlchemyError:
        log.warning("could not record API key use", extra={"api_key_id": known.key_id})
        return
    # Written here, or by another process within the minute: either way not due again
    # before a minute from now. A Core UPDATE: the shared cache's ORM hooks do not fire for it.
    known.last_used_at = now
