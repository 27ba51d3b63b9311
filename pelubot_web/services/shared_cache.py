"""Per-process caches of database-derived values, dropped in every process at once.

Each cache has a version counter in Redis. A read compares the counter with the version
its entry was loaded under and reloads on a mismatch or after the TTL; ``invalidate()``
clears this process's entries and bumps the counter, so every other process reloads on
its next read. The version is read *before* loading, so an edit that commits during a
load can only cause one more reload, never a stale entry under the new version.

Nobody has to remember to invalidate: ``DROPPED_BY`` says which tables each cache is
built from, and session events note every ORM write to them (a flush, or an ORM
``update()``/``delete()``) and invalidate those caches after the transaction commits. A
transaction that has written such rows reads them uncached (what it sees may yet be
rolled back). Writes outside the ORM session (raw SQL, ``flask data import``) must call
``invalidate()`` themselves; otherwise the TTL bounds them.

Without Redis a cache follows its ``redis_down`` policy: ``"ttl"`` keeps serving entries
until their TTL (for lists where a few seconds of staleness is harmless), ``"bypass"``
loads from the database on every read (for values that decide who may do what). A
process that sees Redis fail also drops its entries, so an edit made during the outage
cannot hide behind an unchanged counter afterwards for longer than the TTL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from flask import Flask, current_app, has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from pelubot_web.extensions import db
from pelubot_web.models import (
    ApiKey,
    BookingRules,
    SalonClosure,
    Service,
    Stylist,
    StylistService,
    WorkingHours,
)
from pelubot_web.redis_client import get_redis

__all__ = ["DROPPED_BY", "SharedCache", "init_app", "invalidate", "shared_cache"]

log = logging.getLogger(__name__)

T = TypeVar("T")
# After a Redis failure, skip it for this long instead of paying a timeout per request.
REDIS_RETRY_AFTER_S = 5.0
# Each cache and the tables it is built from: a committed ORM write to one drops it.
DROPPED_BY: dict[str, tuple[type, ...]] = {
    "catalog": (Service, Stylist, StylistService),
    "salon-setup": (Service, Stylist, StylistService, WorkingHours, SalonClosure, BookingRules),
    "api-keys": (ApiKey,),
}
_WRITTEN = "pelubot_shared_caches_written"  # session.info: names of caches to drop
_CACHES = "pelubot_shared_caches"  # app.extensions: name -> SharedCache


@dataclass
class _Entry:
    version: str
    expires_at: float
    value: Any


@dataclass
class SharedCache:
    """One named cache of one app (see the module docstring)."""

    name: str
    ttl_s: float
    redis_down: Literal["ttl", "bypass"]
    entries: dict[Hashable, _Entry] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    redis_down_until: float = 0.0

    @property
    def version_key(self) -> str:
        return f"pelubot:{self.name}:version"

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The cached value for ``key``, or ``load()`` (cached) when stale or missing."""
        if self.name in db.session.info.get(_WRITTEN, ()):
            return load()  # this transaction wrote the tables: its own view, uncached
        version = self._shared_version()
        if version is None and self.redis_down == "bypass":
            return load()
        version = version or "redis-down"
        now = time.monotonic()
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None and entry.version == version and now < entry.expires_at:
                value: T = entry.value
                return value
        value = load()
        with self.lock:
            self.entries[key] = _Entry(version=version, expires_at=now + self.ttl_s, value=value)
        return value

    def invalidate(self) -> None:
        """Drop this cache here and, through Redis, in every other process. Never raises."""
        self.clear_local()
        try:
            get_redis().incr(self.version_key)
        except (RedisError, OSError) as exc:
            self._redis_failed(exc, "other processes refresh after their TTL")

    def clear_local(self) -> None:
        with self.lock:
            self.entries.clear()

    def _shared_version(self) -> str | None:
        """The Redis counter ("0" before the first edit), or None when Redis is down."""
        if time.monotonic() < self.redis_down_until:
            return None
        try:
            raw = get_redis().get(self.version_key)
        except (RedisError, OSError) as exc:
            self._redis_failed(exc, f"policy {self.redis_down}")
            return None
        return raw.decode() if isinstance(raw, bytes) else "0"

    def _redis_failed(self, exc: Exception, consequence: str) -> None:
        self.redis_down_until = time.monotonic() + REDIS_RETRY_AFTER_S
        self.clear_local()
        log.warning(
            "%s cache: redis unavailable, %s",
            self.name,
            consequence,
            extra={"cache": self.name, "error": str(exc)},
        )


def shared_cache(name: str, ttl_s: float, redis_down: Literal["ttl", "bypass"]) -> SharedCache:
    """The current app's cache called ``name`` (one of ``DROPPED_BY``; created on first use)."""
    caches: dict[str, SharedCache] = current_app.extensions.setdefault(_CACHES, {})
    cache = caches.get(name)
    if cache is None:
        cache = caches.setdefault(name, SharedCache(name, ttl_s, redis_down))
    return cache


def invalidate(*names: str) -> None:
    """Drop the named caches here and in every other process (even where this process
    has not built them yet). Never raises."""
    caches: dict[str, SharedCache] = current_app.extensions.get(_CACHES, {})
    for name in names:
        # A placeholder when unused here: the counter must move for the other processes.
        cache = caches.get(name) or SharedCache(name, 0.0, redis_down="bypass")
        cache.invalidate()


# --- invalidation: committed ORM writes to the tables in DROPPED_BY -----------------------


def _dropped_by(model: type) -> set[str]:
    return {name for name, models in DROPPED_BY.items() if issubclass(model, models)}


def _note_flush(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    names: set[str] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        names |= _dropped_by(type(obj))
    if names:
        session.info.setdefault(_WRITTEN, set()).update(names)


def _note_bulk(state: ORMExecuteState) -> None:
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete or state.is_insert) and mapper is not None:
        names = _dropped_by(mapper.class_)
        if names:
            state.session.info.setdefault(_WRITTEN, set()).update(names)


def _after_commit(session: Session) -> None:
    names = session.info.pop(_WRITTEN, set())
    if names and has_app_context():
        invalidate(*sorted(names))


def _after_rollback(session: Session) -> None:
    session.info.pop(_WRITTEN, None)  # nothing was written after all


def init_app(app: Flask) -> None:
    """Listen for writes on every session (once per process)."""
    listeners = (
        ("before_flush", _note_flush),
        ("do_orm_execute", _note_bulk),
        ("after_commit", _after_commit),
        ("after_rollback", _after_rollback),
    )
    for name, listener in listeners:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
