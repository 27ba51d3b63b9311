"""Per-process resources of the worker: the Calendar gateway and the worker's identity."""

from __future__ import annotations

import os
import socket
import threading

from pelubot_web.config import current_config
from pelubot_web.gcal import CalendarGateway, build_calendar_service

_local = threading.local()


def calendar_gateway() -> CalendarGateway:
    """One gateway per thread (httplib2 is not thread-safe), built lazily from the config."""
    cfg = current_config()
    key = (cfg.gcal_backend, cfg.gcal_credentials_file, cfg.gcal_emulator_url, cfg.gcal_timeout_s)
    cached = getattr(_local, "gateway", None)
    if cached is None or cached[0] != key:
        service = build_calendar_service(
            cfg.gcal_backend,
            credentials_file=cfg.gcal_credentials_file,
            emulator_url=cfg.gcal_emulator_url,
            timeout=cfg.gcal_timeout_s,
        )
        cached = (key, CalendarGateway(service))
        _local.gateway = cached
    gateway: CalendarGateway = cached[1]
    return gateway


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
