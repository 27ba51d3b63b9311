"""Per-process caches of database-derived values, dropped in every process at once.

Each cache has a version counter in Redis. A read compares the counter with the version
its entry was loaded under and reloads on a mismatch or after the TTL; an edit calls
``invalidate()`` after committing, which clears this process's entries and bumps the
counter, so every other process reloads on its next read. The version is read *before*
loading, so an edit that commits during a load can only cause one more reload, never a
stale entry under the new version.

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

from flask import current_app
from redis.exceptions import RedisError

from pelubot_web.redis_client import get_redis

__all__ = ["SharedCache", "shared_cache"]

log = logging.getLogger(__name__)

T = TypeVar("T")
# After a Redis failure, skip it for this long instead of paying a timeout per request.
REDIS_RETRY_AFTER_S = 5.0


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
        with self.lock:
            self.entries.clear()
        try:
            get_redis().incr(self.version_key)
        except (RedisError, OSError) as exc:
            self._redis_failed(exc, "other processes refresh after their TTL")

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
        with self.lock:
            self.entries.clear()
        log.warning(
            "%s cache: redis unavailable, %s",
            self.name,
            consequence,
            extra={"cache": self.name, "error": str(exc)},
        )


def shared_cache(name: str, ttl_s: float, redis_down: Literal["ttl", "bypass"]) -> SharedCache:
    """The current app's cache called ``name`` (created on first use)."""
    caches: dict[str, SharedCache] = current_app.extensions.setdefault("pelubot_shared_caches", {})
    cache = caches.get(name)
    if cache is None:
        cache = caches.setdefault(name, SharedCache(name, ttl_s, redis_down))
    return cache
