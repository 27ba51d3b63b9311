"""Injected failures and the call log of the emulator.

A fault matches API calls by method and calendar. Each matching call fires it
with probability ``rate``; a firing fault sleeps ``latency_ms`` and then, if it
has a ``status``, answers with Google's error body for that status (``format``:
``legacy`` with ``errors[].reason``, or ``rpc`` with ``status`` and an ErrorInfo
in ``details``; ``retry_after`` adds a ``Retry-After`` header). ``drop`` closes
the connection without an answer; ``truncate`` runs the call, then cuts the
answer's body short and closes the connection. ``count`` caps how many times it
fires before it removes itself.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["METHODS", "CallLog", "Fault", "FaultBook", "parse_fault"]

METHODS = frozenset({"insert", "get", "update", "patch", "delete", "list", "freebusy"})
_FIELDS = frozenset(
    {
        "status",
        "reason",
        "message",
        "rate",
        "latency_ms",
        "count",
        "calendar_id",
        "methods",
        "format",
        "retry_after",
        "drop",
        "truncate",
    }
)
ERROR_FORMATS = ("legacy", "rpc")


@dataclass
class Fault:
    id: int
    status: int | None = None
    reason: str | None = None
    message: str | None = None
    rate: float = 1.0
    latency_ms: float = 0
    count: int | None = None  # fires left; None = unlimited
    calendar_id: str | None = None
    methods: frozenset[str] | None = None
    format: str = "legacy"
    retry_after: float | None = None
    drop: bool = False
    truncate: bool = False

    def applies_to(self, method: str, calendar_ids: Iterable[str]) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return self.calendar_id is None or self.calendar_id in calendar_ids

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "rate": self.rate,
            "latency_ms": self.latency_ms,
            "count": self.count,
            "calendar_id": self.calendar_id,
            "methods": sorted(self.methods) if self.methods is not None else None,
            "format": self.format,
            "retry_after": self.retry_after,
            "drop": self.drop,
            "truncate": self.truncate,
        }


def parse_fault(spec: Mapping[str, Any], fault_id: int) -> Fault:
    """Validate a fault as posted to ``/_emulator/faults``; ValueError says what is wrong."""
    unknown = set(spec) - _FIELDS
    if unknown:
        raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    status = spec.get("status")
    if status is not None and (not _is_int(status) or not 400 <= status <= 599):
        raise ValueError("status must be an HTTP error code (400-599) or null")
    reason, message, calendar_id = spec.get("reason"), spec.get("message"), spec.get("calendar_id")
    for name, value in (("reason", reason), ("message", message), ("calendar_id", calendar_id)):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{name} must be a string or null")
    if status is None and (reason or message):
        raise ValueError("reason and message need a status")
    rate, latency_ms, count = _pacing(spec)
    methods = _methods(spec.get("methods"))
    transport = _transport_options(spec)
    if status is None and not latency_ms and not (transport["drop"] or transport["truncate"]):
        raise ValueError("a fault needs a status, a latency_ms, drop or truncate")
    return Fault(
        fault_id,
        status,
        reason,
        message,
        float(rate),
        float(latency_ms),
        count,
        calendar_id,
        methods,
        **transport,
    )


def _pacing(spec: Mapping[str, Any]) -> tuple[float, float, int | None]:
    """``rate``, ``latency_ms`` and ``count``, checked."""
    rate = spec.get("rate", 1.0)
    if rate is None:
        rate = 1.0
    if not _is_number(rate) or not 0 <= rate <= 1:
        raise ValueError("rate must be a number between 0 and 1")
    latency_ms = spec.get("latency_ms") or 0
    if not _is_number(latency_ms) or latency_ms < 0:
        raise ValueError("latency_ms must be a non-negative number")
    count = spec.get("count")
    if count is not None and (not _is_int(count) or count < 1):
        raise ValueError("count must be a positive integer or null")
    return rate, latency_ms, count


def _methods(methods: object) -> frozenset[str] | None:
    if methods is None:
        return None
    if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
        raise ValueError("methods must be a list of method names or null")
    chosen = frozenset(m.lower() for m in methods)
    if chosen - METHODS:
        raise ValueError(f"unknown methods {sorted(chosen - METHODS)}; use {sorted(METHODS)}")
    return chosen


def _transport_options(spec: Mapping[str, Any]) -> dict[str, Any]:
    fmt = spec.get("format") or "legacy"
    if fmt not in ERROR_FORMATS:
        raise ValueError(f"format must be one of {', '.join(ERROR_FORMATS)}")
    retry_after = spec.get("retry_after")
    if retry_after is not None and (not _is_number(retry_after) or retry_after < 0):
        raise ValueError("retry_after must be a non-negative number of seconds or null")
    drop, truncate = spec.get("drop", False), spec.get("truncate", False)
    if not isinstance(drop, bool) or not isinstance(truncate, bool):
        raise ValueError("drop and truncate must be true or false")
    if drop and truncate:
        raise ValueError("a fault either drops the connection or truncates the answer")
    return {
        "format": fmt,
        "retry_after": float(retry_after) if retry_after is not None else None,
        "drop": drop,
        "truncate": truncate,
    }


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class FaultBook:
    """The active faults, in the order they were added; the first that fires wins."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = rng or random.Random()
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(self, spec: Mapping[str, Any]) -> Fault:
        with self._lock:
            fault = parse_fault(spec, self._next_id)
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def to_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_json() for fault in self._faults]

    def draw(self, method: str, calendar_ids: Iterable[str]) -> Fault | None:
        """The fault this call suffers, if any; uses up one of its ``count``."""
        ids = set(calendar_ids)
        with self._lock:
            for fault in self._faults:
                if not fault.applies_to(method, ids) or self._rng.random() >= fault.rate:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                return fault
        return None


class CallLog:
    """Counts of API calls by method and status, plus the most recent calls."""

    def __init__(self, keep: int = 1000) -> None:
        self._lock = threading.Lock()
        self._recent: deque[dict[str, Any]] = deque(maxlen=keep)
        self._by_method: Counter[str] = Counter()
        self._by_status: Counter[str] = Counter()
        self._by_method_status: dict[str, Counter[str]] = {}
        self._faulted = 0

    def record(
        self,
        method: str,
        calendar_id: str | None,
        event_id: str | None,
        status: int,
        *,
        fault_id: int | None = None,
    ) -> None:
        with self._lock:
            self._by_method[method] += 1
            self._by_status[str(status)] += 1
            self._by_method_status.setdefault(method, Counter())[str(status)] += 1
            self._faulted += fault_id is not None
            self._recent.append(
                {
                    "at": datetime.now(UTC).isoformat(),
                    "method": method,
                    "calendarId": calendar_id,
                    "eventId": event_id,
                    "status": status,
                    "faultId": fault_id,
                }
            )

    def reset(self) -> None:
        with self._lock:
            self._recent.clear()
            self._by_method.clear()
            self._by_status.clear()
            self._by_method_status.clear()
            self._faulted = 0

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._by_method.values()),
                "faulted": self._faulted,
                "by_method": dict(self._by_method),
                "by_status": dict(self._by_status),
                "by_method_status": {m: dict(c) for m, c in self._by_method_status.items()},
            }

    def recent(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._recent)
