"""CPU seconds spent by each part of the benchmarked stack, read from ``/proc``.

The closed-loop mix and ``/health`` share two cores with PostgreSQL, Redis, the RQ workers,
the emulator and the load generator; the throughput ratio only makes sense once it is
known which of them used the cores. A process's own time plus its reaped children's
(RQ forks a work horse per job, PostgreSQL a backend per connection) plus its live
descendants' is what it and everything it started has used so far.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["CpuMeter", "live_children", "tree_seconds"]

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) is in parentheses and may contain spaces.
    return raw[raw.rindex(")") + 2 :].split()


def live_children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (of any of its threads); [] once it is gone."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(p) for p in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return children


def tree_seconds(pid: int) -> float:
    """CPU seconds of ``pid``, its reaped children and its live descendants."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    # After the command: state ppid ... utime(12) stime(13) cutime(14) cstime(15).
    own = sum(int(fields[i]) for i in (11, 12, 13, 14)) / _TICK
    return own + sum(tree_seconds(child) for child in live_children(pid))


def _pids_named(name: str) -> list[int]:
    """Top-level processes called ``name`` (their parent is not also ``name``)."""
    named: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == name:
                fields = _stat(int(entry.name))
                named[int(entry.name)] = int(fields[1]) if fields else 0
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return [pid for pid, parent in named.items() if parent not in named]


def _machine_ticks() -> dict[str, int]:
    """Machine-wide CPU ticks from ``/proc/stat``: busy, idle (with iowait), stolen."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields[:8]
    return {
        "busy": user + nice + system + irq + softirq,
        "idle": idle + iowait,
        "steal": steal,
    }


class CpuMeter:
    """CPU seconds per part of the stack between ``start()`` and ``stop()``.

    ``parts`` maps a name to the pids of its process trees; PostgreSQL and Redis are
    found by process name (the whole server: the bench's database shares it with
    nothing else while it runs). The load generator is this process's reaped children.
    """

    def __init__(self, parts: Mapping[str, Iterable[int]]) -> None:
        self.parts = {name: list(pids) for name, pids in parts.items()}
        self.parts["postgresql"] = _pids_named("postgres")
        self.parts["redis"] = _pids_named("redis-server")
        self._before: dict[str, float] = {}
        self._machine_before: dict[str, int] = {}
        self._started = 0.0

    def _now(self) -> dict[str, float]:
        now = {name: sum(tree_seconds(p) for p in pids) for name, pids in self.parts.items()}
        times = os.times()
        now["load generator"] = times.children_user + times.children_system
        return now

    def start(self) -> None:
        self._before = self._now()
        self._machine_before = _machine_ticks()
        self._started = time.monotonic()

    def stop(self) -> dict[str, float]:
        after = self._now()
        return {name: round(after[name] - self._before[name], 2) for name in after}

    def machine(self) -> dict[str, float]:
        """Average cores busy, idle and stolen by the hypervisor since ``start()``.

        A phase that left cores idle or had them stolen did not measure this stack's
        ceiling: its throughput (and a ratio built on it) says little.
        """
        seconds = max(time.monotonic() - self._started, 1e-9)
        now = _machine_ticks()
        return {
            f"cores_{name}": round((now[name] - self._machine_before[name]) / _TICK / seconds, 2)
            for name in now
        }
