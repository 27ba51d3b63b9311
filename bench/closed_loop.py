"""``make bench BENCH_ARGS=--closed-loop``: the audit's "15 VU mix" on the production stack.

PostgreSQL, gunicorn with the settings of ``gunicorn.conf.py`` (docs/operations.md), 4 RQ
workers and the Calendar emulator with 40 ms latency on every call. First 15 closed-loop
users hit bare ``/health`` (the same server's ceiling), then 15 chatbots run the mix with
no think time. Reported: throughput ratio mix / health, p50/p95/p99 per endpoint, errors
(a 409 on a taken slot is a success), sync lag p95 (change committed -> event written
in the emulator), the time the queue takes to drain after the load stops, and the CPU
each part of the stack spent per request (``bench/cpu.py``), with the cores busy, idle
and stolen per phase (``/health`` is measured again when it left a core idle). With
``--scale-database-url`` the mix runs again on a database holding 200k reservations and
20k customers, and the list and slot endpoints' p95 are compared with the demo run.
Exit status 1 when a target is missed; results in bench/results/<timestamp>-closed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from statistics import quantiles
from typing import Any

import redis
from sqlalchemy import func, select

from bench.cpu import CpuMeter
from bench.dataset import make_scale_data
from bench.loadgen import CONFLICT_OK, Record, run_users
from bench.run import BIN, ROOT, _app, flask, free_port, rss_mb, stop_processes, wait_http
from pelubot_web.config import current_config
from pelubot_web.extensions import db
from pelubot_web.gcal.events import PELUBOT_PROPERTY
from pelubot_web.models import CalendarSyncJob, Reservation
from pelubot_web.models.outbox import OPEN_OUTBOX_STATUSES

TARGETS = {
    "throughput_ratio": 0.3,
    "p95_ms_each_endpoint": 250.0,
    "errors": 0,
    "sync_lag_p95_s": 1.0,
    "drain_s": 30.0,
    "scale_p95_ratio": 1.5,
}
STRETCH = {"throughput_ratio": 0.5, "p95_ms_each_endpoint": 100.0}
# Endpoints whose p95 must not grow with the table (issue 10, scale target).
SCALE_ENDPOINTS = (
    "GET /reservations",
    "GET /reservations (filtered)",
    "GET /reservations (deep offset)",
    "GET /reservations (after cursor)",
    "GET /slots (any, 7 days)",
    "GET /slots (any, 1 day)",
    "GET /slots (one professional)",
)
GOOGLE_LATENCY_MS = 40
# Cores left idle or stolen (of the machine's) above which a phase measured no ceiling.
UNSATURATED_CORES = 0.25
HEALTH_ATTEMPTS = 3


@dataclass
class Stack:
    port: int
    emulator_port: int
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]]


def _env(database_url: str, tmp: Path, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PELUBOT_")}
    env.update(
        PELUBOT_ENV="prod",
        PELUBOT_DATABASE_URL=database_url,
        PELUBOT_REDIS_URL=redis_url,
        PELUBOT_SECRET_KEY="bench-closed-loop-secret-key-0123456789",
        PELUBOT_API_KEY="bench-closed-loop-bootstrap-api-key-0123456789",
        PELUBOT_GCAL_BACKEND="emulator",
        PELUBOT_API_RATE_LIMIT="10000000/minute",
        # Google's documented per-project quota (10,000 requests a minute). The default
        # budget, 300 a minute, is for one service account acting as one Google user
        # (600 a minute per user); this mix books ~12 times a second, far more than one
        # salon, and the emulator has no quota: a budget meant for production would
        # measure the budget, not the workers.
        PELUBOT_GCAL_RATE_PER_MINUTE="10000",
        PELUBOT_SYNC_POLL_INTERVAL_S="1",
        PROMETHEUS_MULTIPROC_DIR=str(tmp / "prom"),
    )
    (tmp / "prom").mkdir(exist_ok=True)
    return env


def prepare_database(env: dict[str, str], scale: bool) -> str:
    """Migrate, seed the demo salon (and the 200k history); return a booking API key."""
    flask(env, "db", "upgrade")
    flask(env, "seed-demo", "--if-empty")
    if scale:
        app = _app(env)
        with app.app_context():
            if (db.session.scalar(select(func.count(Reservation.id))) or 0) < 1000:
                make_scale_data(200_000, 20_000, current_config(app).tz)
    return flask(
        env, "api-keys", "create", "--name", f"bench-{time.time_ns()}", "--scope", "booking"
    ).split()[-1]


@contextmanager
def running_stack(env: dict[str, str], workers: int, gunicorn_args: list[str]) -> Iterator[Stack]:
    port, emu_port = free_port(), free_port()
    env = {**env, "PELUBOT_GCAL_EMULATOR_URL": f"http://127.0.0.1:{emu_port}"}
    log_path = Path(env["PROMETHEUS_MULTIPROC_DIR"]).parent / "processes.log"
    with open(log_path, "ab") as logs:
        procs: dict[str, subprocess.Popen[bytes]] = {}

        def spawn(*command: str) -> subprocess.Popen[bytes]:
            return subprocess.Popen(command, cwd=ROOT, env=env, stdout=logs, stderr=logs)

        try:
            procs["emulator"] = spawn(
                sys.executable, "-m", "pelubot_web.gcal.emulator", "--port", str(emu_port), "--demo"
            )
            wait_http(f"http://127.0.0.1:{emu_port}/_emulator/health")
            fault = json.dumps({"latency_ms": GOOGLE_LATENCY_MS, "rate": 1.0}).encode()
            urllib.request.urlopen(
                urllib.request.Request(
                    f"http://127.0.0.1:{emu_port}/_emulator/faults",
                    data=fault,
                    headers={"Content-Type": "application/json"},
                )
            ).read()
            for i in range(workers):
                procs[f"worker{i}"] = spawn(sys.executable, "worker.py")
            procs["web"] = spawn(
                str(BIN / "gunicorn"), *gunicorn_args, "--bind", f"127.0.0.1:{port}", "wsgi:app"
            )
            wait_http(f"http://127.0.0.1:{port}/health")
            yield Stack(port, emu_port, env, procs)
        finally:
            stop_processes(procs)


def percentile_ms(values: list[float], pct: int) -> float:
    if len(values) < 2:
        return round(values[0] * 1000, 1) if values else 0.0
    return round(quantiles(values, n=100, method="inclusive")[pct - 1] * 1000, 1)


def is_error(name: str, status: int) -> bool:
    return not (200 <= status < 300 or (status == 409 and name in CONFLICT_OK))


def summarize(records: list[Record], seconds: float) -> dict[str, Any]:
    by_name: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_name[record[0]].append(record)
    endpoints = {}
    for name, rows in sorted(by_name.items()):
        latencies = [r[2] for r in rows]
        statuses: dict[str, int] = defaultdict(int)
        for r in rows:
            statuses[str(r[1])] += 1
        endpoints[name] = {
            "count": len(rows),
            "rps": round(len(rows) / seconds, 1),
            "p50_ms": percentile_ms(latencies, 50),
            "p95_ms": percentile_ms(latencies, 95),
            "p99_ms": percentile_ms(latencies, 99),
            "errors": sum(1 for r in rows if is_error(name, r[1])),
            "statuses": dict(statuses),
        }
    return {
        "requests": len(records),
        "rps": round(len(records) / seconds, 1),
        "errors": sum(e["errors"] for e in endpoints.values()),
        "endpoints": endpoints,
    }


def drain_seconds(env: dict[str, str], load_ended: float, timeout: float = 120) -> float | None:
    """Seconds from the end of the load until no outbox row is open (None: never)."""
    with _app(env).app_context():
        while time.monotonic() - load_ended < timeout:
            open_rows = db.session.scalar(
                select(func.count(CalendarSyncJob.id)).where(
                    CalendarSyncJob.status.in_(OPEN_OUTBOX_STATUSES)
                )
            )
            db.session.rollback()
            if not open_rows:
                return round(time.monotonic() - load_ended, 2)
            time.sleep(0.25)
    return None


def sync_lags(stack: Stack) -> list[float]:
    """Per live event: its last write in the emulator minus its change's commit time."""
    url = f"http://127.0.0.1:{stack.emulator_port}/_emulator/events"
    events = json.loads(urllib.request.urlopen(url).read())["items"]
    written = {
        e["extendedProperties"]["private"][PELUBOT_PROPERTY]: datetime.fromisoformat(e["updated"])
        for e in events
        if PELUBOT_PROPERTY in e.get("extendedProperties", {}).get("private", {})
    }
    with _app(stack.env).app_context():
        rows = db.session.execute(
            select(Reservation.uuid, func.max(CalendarSyncJob.changed_at))
            .join(CalendarSyncJob, CalendarSyncJob.reservation_id == Reservation.id)
            .where(Reservation.uuid.in_(list(written)))
            .group_by(Reservation.uuid)
        ).all()
    return [(written[uuid] - changed).total_seconds() for uuid, changed in rows]


def cpu_meter(stack: Stack) -> CpuMeter:
    workers = [p.pid for name, p in stack.procs.items() if name.startswith("worker")]
    return CpuMeter(
        {
            "web": [stack.procs["web"].pid],
            "rq workers": workers,
            "emulator": [stack.procs["emulator"].pid],
        }
    )


def cpu_per_request(cpu: dict[str, float], requests: int) -> dict[str, float]:
    """Milliseconds of CPU each part of the stack spent per request served."""
    per = {name: round(seconds * 1000 / max(requests, 1), 2) for name, seconds in cpu.items()}
    per["total"] = round(sum(cpu.values()) * 1000 / max(requests, 1), 2)
    return per


def run_health(stack: Stack, users: int, duration: float) -> dict[str, Any]:
    """The server's ceiling on bare ``/health``, measured until it keeps the cores busy.

    gthread workers keep a client's connection in the process that accepted it, and the
    15 connections of a phase are accepted all at once: sometimes most land in one
    process, whose GIL then caps the phase while a core idles (600 instead of 1,300
    req/s on the same code). Such a phase did not measure the ceiling, so it is run
    again with fresh connections, up to ``HEALTH_ATTEMPTS`` times; the best is kept.
    """
    attempts: list[dict[str, Any]] = []
    for _ in range(HEALTH_ATTEMPTS):
        meter = cpu_meter(stack)
        meter.start()
        started = time.monotonic()
        records = run_users("health", stack.port, users, duration)
        summary = summarize(records, time.monotonic() - started)
        cpu = cpu_per_request(meter.stop(), len(records))
        attempts.append({**summary, "cpu_ms_per_request": cpu, "machine": meter.machine()})
        if not unsaturated(attempts[-1]["machine"]):
            break
    best = max(attempts, key=lambda a: a["rps"])
    return {**best, "attempts_rps": [a["rps"] for a in attempts]}


def unsaturated(machine: dict[str, float]) -> bool:
    """Whether a phase left cores idle or had them stolen (no ceiling was measured)."""
    return machine["cores_idle"] + machine["cores_steal"] > UNSATURATED_CORES


def run_mix(stack: Stack, key: str, users: int, duration: float) -> dict[str, Any]:
    meter = cpu_meter(stack)
    meter.start()
    started = time.monotonic()
    records = run_users("mix", stack.port, users, duration, key)
    ended = time.monotonic()
    cpu, machine = meter.stop(), meter.machine()
    rss = {name: round(rss_mb(p.pid), 1) for name, p in stack.procs.items()}
    drained = drain_seconds(stack.env, ended)
    lags = sync_lags(stack)
    return {
        **summarize(records, ended - started),
        "duration_s": round(ended - started, 1),
        "cpu_ms_per_request": cpu_per_request(cpu, len(records)),
        "machine": machine,
        "drain_s": drained,
        "synced_events": len(lags),
        "sync_lag_p50_s": round(percentile_ms(lags, 50) / 1000, 3),
        "sync_lag_p95_s": round(percentile_ms(lags, 95) / 1000, 3),
        "rss_mb": rss,
    }


def check(results: dict[str, Any]) -> dict[str, bool]:
    mix = results["mix"]
    met = {
        "throughput_ratio": results["throughput_ratio"] >= TARGETS["throughput_ratio"],
        "p95_ms_each_endpoint": all(
            e["p95_ms"] <= TARGETS["p95_ms_each_endpoint"] for e in mix["endpoints"].values()
        ),
        "errors": mix["errors"] == 0 and results["health"]["errors"] == 0,
        "sync_lag_p95_s": mix["synced_events"] > 0
        and mix["sync_lag_p95_s"] <= TARGETS["sync_lag_p95_s"],
        "drain_s": mix["drain_s"] is not None and mix["drain_s"] <= TARGETS["drain_s"],
    }
    if "scale" in results:
        met["scale_p95_ratio"] = all(
            r is not None and r <= TARGETS["scale_p95_ratio"]
            for r in results["scale"]["p95_ratio"].values()
        )
    return met


def scale_ratios(demo: dict[str, Any], scale: dict[str, Any]) -> dict[str, float | None]:
    ratios: dict[str, float | None] = {}
    for name in SCALE_ENDPOINTS:
        base = demo["endpoints"].get(name, {}).get("p95_ms")
        big = scale["endpoints"].get(name, {}).get("p95_ms")
        ratios[name] = round(big / base, 2) if base and big else None
    return ratios


def print_table(results: dict[str, Any]) -> None:
    health, mix = results["health"], results["mix"]
    print(
        f"\n/health: {health['rps']} req/s   mix: {mix['rps']} req/s   "
        f"ratio {results['throughput_ratio']}"
    )
    if len(health.get("attempts_rps", [])) > 1:
        print(f"/health attempts (run again while a core idled): {health['attempts_rps']}")
    print(f"{'endpoint':44} {'count':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'errors':>6}")
    for name, e in mix["endpoints"].items():
        timings = f"{e['p50_ms']:7} {e['p95_ms']:7} {e['p99_ms']:7}"
        print(f"{name:44} {e['count']:6} {timings} {e['errors']:6}")
    print(
        f"sync lag p95 {mix['sync_lag_p95_s']} s over {mix['synced_events']} events; "
        f"queue drained {mix['drain_s']} s after the load"
    )
    print("CPU ms per request (web, rq workers, emulator, postgresql, redis, load generator):")
    for phase in ("health", "mix"):
        print(
            f"  {phase:7} "
            + "  ".join(f"{k} {v}" for k, v in results[phase]["cpu_ms_per_request"].items())
        )
    phases = {"health": results["health"], "mix": results["mix"]}
    if "scale" in results:
        phases["scale mix"] = results["scale"]["mix"]
    for phase, measured in phases.items():
        m = measured["machine"]
        print(
            f"  {phase:7} cores busy {m['cores_busy']}  idle {m['cores_idle']}  "
            f"stolen {m['cores_steal']}"
        )
        if unsaturated(m):
            print(
                f"  warning: the {phase} phase did not keep the cores busy (idle or stolen "
                "by the hypervisor): its throughput, and the ratio, are not this stack's "
                "ceiling; run again on a quiet machine"
            )
    if "scale" in results:
        for name, ratio in results["scale"]["p95_ratio"].items():
            print(f"scale p95 ratio {name:40} {ratio}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--closed-loop", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--users", type=int, default=15)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--health-duration", type=float, default=30)
    # Sync jobs mostly wait on Google (40 ms a call here): 2 workers finished ~16 jobs/s
    # under this load while the mix commits ~28 changes/s, so the lag grew to 15 s;
    # with 4 it stays under a second (docs/operations.md, "How many workers").
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database-url", default=os.environ.get("PELUBOT_BENCH_DATABASE_URL"))
    parser.add_argument("--scale-database-url", default=None)
    parser.add_argument("--gunicorn", default="", help="Extra gunicorn flags (to compare settings)")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("PELUBOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"),
    )
    args = parser.parse_args(argv)
    if not (args.database_url or "").startswith("postgresql"):
        parser.error("--database-url must be an empty PostgreSQL database (production stack)")
    tmp = Path(tempfile.mkdtemp(prefix="pelubot-closed-"))
    gunicorn_args = args.gunicorn.split()
    env = _env(args.database_url, tmp, args.redis_url)
    redis.Redis.from_url(args.redis_url).flushdb()  # the bench's own db number
    key = prepare_database(env, scale=False)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "load_avg_before": os.getloadavg()},
        "users": args.users,
        "gunicorn": gunicorn_args or "gunicorn.conf.py defaults",
        "workers": args.workers,
        "google_latency_ms": GOOGLE_LATENCY_MS,
    }
    with running_stack(env, args.workers, gunicorn_args) as stack:
        results["health"] = run_health(stack, args.users, args.health_duration)
        results["mix"] = run_mix(stack, key, args.users, args.duration)
    results["throughput_ratio"] = round(results["mix"]["rps"] / results["health"]["rps"], 3)
    if args.scale_database_url:
        scale_env = _env(args.scale_database_url, tmp, args.redis_url)
        redis.Redis.from_url(args.redis_url).flushdb()
        scale_key = prepare_database(scale_env, scale=True)
        with running_stack(scale_env, args.workers, gunicorn_args) as stack:
            scale = run_mix(stack, scale_key, args.users, args.duration)
        results["scale"] = {"mix": scale, "p95_ratio": scale_ratios(results["mix"], scale)}
    results["machine"]["load_avg_after"] = os.getloadavg()
    results["targets"], results["stretch"] = TARGETS, STRETCH
    results["targets_met"] = check(results)
    out = ROOT / "bench" / "results" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-closed.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    missed = [k for k, ok in results["targets_met"].items() if not ok]
    print(f"results: {out}")
    print("targets missed: " + ", ".join(missed) if missed else "all targets met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
