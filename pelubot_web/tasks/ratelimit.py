"""One Google Calendar request budget shared by every worker: a token bucket in Redis.

Google's per-user limit (about 600 requests a minute, counted for the service account
or the delegated user) is shared by all workers, so a per-process limiter cannot keep
under it. The bucket refills at ``PELUBOT_GCAL_RATE_PER_MINUTE`` (default well under
Google's limit) and holds at most ``rate / 6`` tokens (a ten-second burst). The clock
is Redis's own (``TIME``), so workers on different hosts agree.
"""

from __future__ import annotations

import logging
import time

from redis import Redis
from redis.exceptions import RedisError

from pelubot_web.gcal import GoogleCalendarError

log = logging.getLogger(__name__)

__all__ = ["GoogleRateLimiter"]

BUCKET_KEY = "pelubot:gcal:bucket"
# Longer than this and the job gives the worker back; the outbox retries it later.
MAX_WAIT_S = 30.0

_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(data[1]) or burst
local ts = tonumber(data[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class GoogleRateLimiter:
    """``acquire()`` blocks until the shared bucket grants one request."""

    def __init__(self, redis: Redis, per_minute: float) -> None:
        self._redis = redis
        self._rate = per_minute / 60.0
        self._burst = max(1.0, per_minute / 6.0)
        self._take = redis.register_script(_TAKE)

    def try_acquire(self) -> float:
        """Take a token if one is there (0.0), else the seconds until one will be."""
        return float(self._take(keys=[BUCKET_KEY], args=[self._rate, self._burst]))

    def acquire(self) -> None:
        waited = 0.0
        while True:
            try:
                wait = self.try_acquire()
            except (RedisError, OSError):
                # Without Redis there is no shared budget; Google's 403/429 still apply.
                log.warning("rate limiter unavailable; calling Google unthrottled")
                return
            if wait <= 0:
                return
            if waited + wait > MAX_WAIT_S:
                raise GoogleCalendarError(
                    "local Google request budget exhausted; will retry",
                    reason="localRateLimit",
                    retryable=True,
                    retry_after_s=wait,
                )
            time.sleep(wait)
            waited += wait
