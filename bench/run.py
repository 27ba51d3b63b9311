"""``make bench``: PeluBot under a chatbot load, end to end, on this machine.

Starts the Calendar emulator, N workers and gunicorn on a fresh database seeded with
the demo salon, runs locust headless, waits for the sync queue to drain, then writes
bench/results/<timestamp>.json with request latencies, sync lag (change committed ->
event in Google), throughput and the memory (RSS) of every process, and checks them
against the targets below. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from statistics import quantiles

from flask import Flask
from sqlalchemy import select

from bench.cpu import live_children
from pelubot_web import create_app
from pelubot_web.config import Config
from pelubot_web.extensions import db
from pelubot_web.models import CalendarSyncJob
from pelubot_web.models.outbox import OPEN_OUTBOX_STATUSES
from pelubot_web.services import sync_status

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGETS = {
    "p95_ms /slots": 300.0,
    "p95_ms POST /reservations": 500.0,
    "sync_lag_p95_s": 5.0,
    "max_rss_mb_web": 250.0,
    "max_rss_mb_worker": 200.0,
    "error_rate": 0.0,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_processes(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    """SIGTERM every process (warm shutdown), then kill what is still up after 20 s."""
    for proc in procs.values():
        proc.send_signal(signal.SIGTERM)
    for proc in procs.values():
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn forks its workers)."""
    total = 0
    for p in [pid, *live_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def flask(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def main() -> int:
    if "--closed-loop" in sys.argv[1:]:
        from bench.closed_loop import main as closed_loop

        return closed_loop(sys.argv[1:])
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", default="60s")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("PELUBOT_BENCH_DATABASE_URL"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="pelubot-bench-"))
    web_port, emu_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PELUBOT_")}
    env.update(
        PELUBOT_ENV="dev",
        PELUBOT_DATABASE_URL=args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}",
        PELUBOT_REDIS_URL=os.environ.get("PELUBOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"),
        PELUBOT_SECRET_KEY="bench-secret-key",
        PELUBOT_GCAL_BACKEND="emulator",
        PELUBOT_GCAL_EMULATOR_URL=f"http://127.0.0.1:{emu_port}",
        PELUBOT_API_RATE_LIMIT="100000/minute",
        PELUBOT_SYNC_POLL_INTERVAL_S="1",
        PROMETHEUS_MULTIPROC_DIR=str(tmp / "prom"),
    )
    (tmp / "prom").mkdir()
    import redis

    redis.Redis.from_url(env["PELUBOT_REDIS_URL"]).flushdb()  # the bench's own db number
    flask(env, "db", "upgrade")
    flask(env, "seed-demo")
    key = flask(env, "api-keys", "create", "--name", "bench", "--scope", "booking").split()[-1]
    env["PELUBOT_BENCH_API_KEY"] = key

    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs = open(tmp / "processes.log", "wb")  # closed in the finally below
    try:
        procs["emulator"] = subprocess.Popen(
            [sys.executable, "-m", "pelubot_web.gcal.emulator", "--port", str(emu_port), "--demo"],
            cwd=ROOT,
            env=env,
            stdout=logs,
            stderr=logs,
        )
        for i in range(args.workers):
            procs[f"worker{i}"] = subprocess.Popen(
                [sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=logs, stderr=logs
            )
        procs["web"] = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--workers",
                "2",
                "--threads",
                "4",
                "--bind",
                f"127.0.0.1:{web_port}",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=logs,
            stderr=logs,
        )
        wait_http(f"http://127.0.0.1:{web_port}/health")
        wait_http(f"http://127.0.0.1:{emu_port}/_emulator/health")

        started = time.monotonic()
        subprocess.run(
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "-u",
                str(args.users),
                "-r",
                str(args.users),
                "-t",
                args.duration,
                "--host",
                f"http://127.0.0.1:{web_port}",
                "--csv",
                str(tmp / "locust"),
                "--only-summary",
            ],
            cwd=ROOT,
            env=env,
            check=False,
        )
        load_s = time.monotonic() - started
        rss = {name: round(rss_mb(p.pid), 1) for name, p in procs.items()}
        drained = wait_for_drain(env)
        results = collect(tmp, env, load_s, rss, drained, args)
    finally:
        stop_processes(procs)
        logs.close()

    out = ROOT / "bench" / "results" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    targets_met: dict[str, bool] = results["targets_met"]  # type: ignore[assignment]
    missed = [k for k, ok in targets_met.items() if not ok]
    print(f"results: {out}")
    print("targets missed: " + ", ".join(missed) if missed else "all targets met")
    return 1 if missed else 0


def _app(env: dict[str, str]) -> Flask:
    """The system under test's app, in this process, to read its database directly."""
    return create_app(Config.from_env(env))


def wait_for_drain(env: dict[str, str], timeout: float = 120) -> bool:
    """True once no outbox row is pending, queued or processing."""
    app = _app(env)
    deadline = time.monotonic() + timeout
    with app.app_context():
        while time.monotonic() < deadline:
            by_status = sync_status.queue_snapshot()["by_status"]
            db.session.rollback()
            if not any(by_status[s] for s in OPEN_OUTBOX_STATUSES):  # type: ignore[index]
                return True
            time.sleep(1)
    return False


def collect(
    tmp: Path,
    env: dict[str, str],
    load_s: float,
    rss: dict[str, float],
    drained: bool,
    args: argparse.Namespace,
) -> dict[str, object]:
    with open(tmp / "locust_stats.csv") as stats_file:
        stats = list(csv.DictReader(stats_file))
    requests: dict[str, dict[str, float]] = {}
    total = failures = 0
    for row in stats:
        if row["Name"] == "Aggregated":
            total, failures = int(row["Request Count"]), int(row["Failure Count"])
            continue
        requests[row["Name"]] = {
            "count": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]),
            "p99_ms": float(row["99%"]),
            "rps": round(float(row["Requests/s"]), 1),
        }
    lags = sync_lags(env)
    lag_p95 = quantiles(lags, n=20)[18] if len(lags) >= 20 else (max(lags) if lags else 0.0)
    web_rss = rss.get("web", 0.0)
    worker_rss = max((v for k, v in rss.items() if k.startswith("worker")), default=0.0)
    measured = {
        "p95_ms /slots": requests.get("/slots", {}).get("p95_ms", 0.0),
        "p95_ms POST /reservations": requests.get("POST /reservations", {}).get("p95_ms", 0.0),
        "sync_lag_p95_s": round(lag_p95, 3),
        "max_rss_mb_web": web_rss,
        "max_rss_mb_worker": worker_rss,
        "error_rate": round(failures / total, 4) if total else 1.0,
    }
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
        "database": env["PELUBOT_DATABASE_URL"].split(":", 1)[0],
        "users": args.users,
        "duration_s": round(load_s, 1),
        "workers": args.workers,
        "requests": requests,
        "total_requests": total,
        "failures": failures,
        "synced_reservations": len(lags),
        "queue_drained": drained,
        "rss_mb": rss,
        "measured": measured,
        "targets": TARGETS,
        "targets_met": {k: measured[k] <= TARGETS[k] for k in TARGETS} | {"drained": drained},
    }


def sync_lags(env: dict[str, str]) -> list[float]:
    """Seconds from change commit to success, per finished outbox row."""
    with _app(env).app_context():
        rows = db.session.scalars(
            select(CalendarSyncJob).where(CalendarSyncJob.status == "succeeded")
        ).all()
        return [(r.finished_at - r.changed_at).total_seconds() for r in rows if r.finished_at]


if __name__ == "__main__":
    sys.exit(main())
