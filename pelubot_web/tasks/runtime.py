"""Per-process resources of the worker: Calendar gateways and the worker's identity."""

from __future__ import annotations

import os
import socket
import threading

from sqlalchemy import select

from pelubot_web.config import Config, current_config
from pelubot_web.extensions import db
from pelubot_web.gcal import CalendarGateway, build_calendar_service, service_account_email
from pelubot_web.metrics import GOOGLE_CALL_DURATION
from pelubot_web.models import Stylist
from pelubot_web.redis_client import get_redis
from pelubot_web.tasks.ratelimit import GoogleRateLimiter

# Gateways are cached per thread: cheap insurance, the client objects are not documented
# as thread-safe even though each request now opens its own connection.
_local = threading.local()


class WorkerCallHooks:
    """Around every Google call: the shared request budget, then the duration histogram."""

    def __init__(self, limiter: GoogleRateLimiter | None) -> None:
        self._limiter = limiter

    def before(self, method: str) -> None:
        if self._limiter is not None:
            self._limiter.acquire()

    def after(self, method: str, seconds: float, outcome: str) -> None:
        GOOGLE_CALL_DURATION.labels(method).observe(seconds)


def _build_gateway(cfg: Config, subject: str | None) -> CalendarGateway:
    service = build_calendar_service(
        cfg.gcal_backend,
        credentials_file=cfg.gcal_credentials_file,
        emulator_url=cfg.gcal_emulator_url,
        timeout=cfg.gcal_timeout_s,
        subject=subject,
    )
    limiter = None
    if cfg.gcal_rate_per_minute > 0:
        limiter = GoogleRateLimiter(get_redis(), cfg.gcal_rate_per_minute)
    principal = subject or service_account_email(cfg.gcal_credentials_file)
    return CalendarGateway(service, principal=principal, hooks=WorkerCallHooks(limiter))


def calendar_gateway(subject: str | None = None) -> CalendarGateway:
    """A gateway per thread and per delegated user, built lazily from the config.

    Each request opens its own connection (``gcal/transport.py``); caching only saves
    rebuilding the client and keeps the service account's token.
    """
    cfg = current_config()
    key = (
        cfg.gcal_backend,
        cfg.gcal_credentials_file,
        cfg.gcal_emulator_url,
        cfg.gcal_timeout_s,
        cfg.gcal_rate_per_minute,
        subject,
    )
    cache: dict[tuple[object, ...], CalendarGateway] = _local.__dict__.setdefault("gateways", {})
    gateway = cache.get(key)
    if gateway is None:
        gateway = cache[key] = _build_gateway(cfg, subject)
    return gateway


def gateway_for_calendar(calendar_id: str, fallback: Stylist) -> CalendarGateway:
    """The gateway that may write ``calendar_id``: as the stylist whose calendar it is
    (a booking moved to another stylist is deleted as its old stylist, whose delegated
    account may be the only one with access), else as ``fallback`` (e.g. the stylist's
    own previous calendar after they changed it)."""
    owner = db.session.scalar(select(Stylist).where(Stylist.calendar_id == calendar_id).limit(1))
    return gateway_for_stylist(owner or fallback)


def gateway_for_stylist(stylist: Stylist) -> CalendarGateway:
    """The gateway that may write ``stylist``'s calendars: as their own Workspace account
    (domain-wide delegation) when one is set, else as the service account itself."""
    return calendar_gateway(stylist.google_account)


def worker_identity() -> str:
    """``host:pid``: lets a worker on the same host tell a dead owner from a live one."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_is_dead_here(locked_by: str | None) -> bool:
    """True when ``locked_by`` names a process on this host that no longer exists."""
    if not locked_by or ":" not in locked_by:
        return False
    host, _, pid_text = locked_by.rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
