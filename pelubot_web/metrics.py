"""Prometheus metrics: request metrics from prometheus-flask-exporter plus ``pelubot_`` series.

``/metrics`` answers only allowed client networks or a bearer token (``scrape_refusal``).
Counters and histograms live in the default registry (multiprocess-safe when
``PROMETHEUS_MULTIPROC_DIR`` is set, as under gunicorn). Queue gauges are computed from
the database at scrape time, so every process reports the same truth.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from flask import Flask, Response, current_app, request
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    make_wsgi_app,
)
from prometheus_client import multiprocess as pc_multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from prometheus_flask_exporter import PrometheusMetrics

from pelubot_web.config import Config, current_config

log = logging.getLogger(__name__)

__all__ = [
    "Metrics",
    "RESERVATION_ACTIONS",
    "SYNC_LAG",
    "SYNC_ATTEMPTS",
    "GOOGLE_ERRORS",
    "GOOGLE_CALL_DURATION",
    "PULL_OUTCOMES",
    "QUEUE_WAIT",
    "WORKER_LAST_CYCLE",
    "serve_worker_metrics",
    "SYNC_OUTCOMES",
    "NOTIFICATIONS",
    "NOTIFICATION_LAG",
]

RESERVATION_ACTIONS = Counter(
    "pelubot_reservation_actions_total",
    "Reservation writes by action (create, reschedule, cancel, ...) and source",
    ["action", "source"],
)
SYNC_LAG = Histogram(
    "pelubot_sync_lag_seconds",
    "Time from the reservation change commit to the event being synced in Google",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600),
)
SYNC_ATTEMPTS = Histogram(
    "pelubot_sync_attempts",
    "Attempts a calendar sync job needed until it finished (succeeded or failed)",
    buckets=(1, 2, 3, 4, 5, 6, 8, 10, 15, 20),
)
GOOGLE_ERRORS = Counter(
    "pelubot_google_errors_total",
    "Errors returned by Google Calendar, by HTTP status (or 'timeout'/'connection')",
    ["code"],
)
SYNC_OUTCOMES = Counter(
    "pelubot_sync_outcomes_total",
    "Calendar sync attempts by outcome (succeeded, retry, failed)",
    ["outcome"],
)
NOTIFICATIONS = Counter(
    "pelubot_notifications_total",
    "Notification attempts by channel (email, webhook), kind and outcome "
    "(sent, retry, failed, skipped)",
    ["channel", "kind", "outcome"],
)
NOTIFICATION_LAG = Histogram(
    "pelubot_notification_delivery_lag_seconds",
    "Time from a notification's due time to its delivery",
    ["channel"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600),
)

GOOGLE_CALL_DURATION = Histogram(
    "pelubot_google_call_duration_seconds",
    "Duration of Google Calendar API calls made by this worker, by method",
    ["method"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
QUEUE_WAIT = Histogram(
    "pelubot_sync_queue_wait_seconds",
    "Time from the committed reservation change to a worker starting its sync job",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)
PULL_OUTCOMES = Counter(
    "pelubot_calendar_pulls_total",
    "Busy-time imports run by this worker, by outcome (full, incremental, failed, skipped)",
    ["outcome"],
)

WORKER_LAST_CYCLE = Gauge(
    "pelubot_worker_last_cycle_timestamp_seconds",
    "Unix time of this worker's last completed dispatcher cycle (liveness)",
    multiprocess_mode="max",
)

QueueSnapshot = Callable[[], dict[str, Any]]
QUEUE_SNAPSHOT_KEY = "pelubot_queue_snapshot"


def _by_status(name: str, documentation: str, counts: dict[str, int] | None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["status"])
    for status, count in sorted((counts or {}).items()):
        family.add_metric([status], count)
    return family


class _QueueCollector(Collector):
    def __init__(self, snapshot: QueueSnapshot) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterable[GaugeMetricFamily]:
        try:
            snap = self._snapshot()
        except Exception:
            # /metrics must keep answering when the database is down; the gap is visible.
            log.warning("queue metrics unavailable", exc_info=True)
            return
        yield _by_status(
            "pelubot_outbox_rows", "Calendar sync outbox rows by status", snap.get("by_status")
        )
        yield GaugeMetricFamily(
            "pelubot_outbox_oldest_pending_age_seconds",
            "Age of the oldest due row still waiting to be synced (0 when none)",
            value=snap.get("oldest_pending_age_s", 0.0),
        )
        yield _by_status(
            "pelubot_notification_rows",
            "Notification outbox rows by status",
            snap.get("notifications_by_status"),
        )
        yield GaugeMetricFamily(
            "pelubot_notification_oldest_due_age_seconds",
            "How long the oldest due email or webhook has waited to go out (0 when none)",
            value=snap.get("oldest_due_notification_age_s", 0.0),
        )
        age = snap.get("worker_heartbeat_age_s")
        yield GaugeMetricFamily(
            "pelubot_worker_heartbeat_age_seconds",
            "Seconds since the freshest worker heartbeat (-1 when no worker ever reported)",
            value=-1.0 if age is None else age,
        )
        workers = GaugeMetricFamily(
            "pelubot_worker_last_seen_seconds",
            "Seconds since each worker's last heartbeat (workers silent for a day drop out)",
            labels=["worker"],
        )
        for name, seen in sorted(snap.get("worker_heartbeats", {}).items()):
            workers.add_metric([name], seen)
        yield workers
        pulls = GaugeMetricFamily(
            "pelubot_calendar_pull_failing",
            "1 while a stylist's busy-time import from Google is failing",
            labels=["stylist"],
        )
        failing_for = GaugeMetricFamily(
            "pelubot_calendar_pull_failing_seconds",
            "How long a stylist's busy-time import has been failing (0 when it works)",
            labels=["stylist"],
        )
        pushes = GaugeMetricFamily(
            "pelubot_calendar_push_failed_rows",
            "Outbox rows failed for good, by stylist (calendar unshared, read-only, ...)",
            labels=["stylist"],
        )
        for stylist in snap.get("stylists", []):
            pulls.add_metric([stylist["slug"]], 1.0 if stylist["pull_failing"] else 0.0)
            failing_for.add_metric([stylist["slug"]], stylist["pull_failing_s"])
            pushes.add_metric([stylist["slug"]], stylist["failed_pushes"])
        yield pulls
        yield failing_for
        yield pushes


def _client_in(remote_addr: str | None, networks: tuple[str, ...] | None) -> bool:
    try:
        client = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(net) for net in networks or ())


def _bearer_matches(authorization: str, expected: str | None) -> bool:
    if not expected:
        return False
    scheme, _, presented = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode("utf-8"), expected.encode("utf-8")
    )


def scrape_refusal_for(
    cfg: Config, remote_addr: str | None, authorization: str
) -> tuple[int, str, dict[str, str]] | None:
    """None when this client may read metrics, else (status, text, headers) to refuse.

    Allowed: a client address in ``PELUBOT_METRICS_ALLOWED_NETWORKS`` (the real client
    once ``PELUBOT_TRUSTED_PROXIES`` is set) or ``Authorization: Bearer
    <PELUBOT_METRICS_TOKEN>`` from anywhere. The series name queues, errors and traffic:
    useful to an attacker, so stage/prod allow nobody until one of them is configured.
    The same rule guards the web's ``/metrics`` and every worker's.
    """
    if _client_in(remote_addr, cfg.metrics_allowed_networks) or _bearer_matches(
        authorization, cfg.metrics_token
    ):
        return None
    if cfg.metrics_token:
        return (
            401,
            "Send the metrics token as a bearer token.\n",
            {"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return 403, "Metrics are not available to this client.\n", {}


def scrape_refusal() -> Response | None:
    """None when this request may read the web's /metrics, else the refusal to send."""
    refusal = scrape_refusal_for(
        current_config(), request.remote_addr, request.headers.get("Authorization", "")
    )
    if refusal is None:
        return None
    status, text, headers = refusal
    return Response(text, status=status, mimetype="text/plain", headers=headers)


class Metrics:
    """Binds request metrics to an app and serves ``/metrics``.

    Each app gets its own registry for request metrics (so several apps in one test
    process do not collide); ``pelubot_`` series come from the default registry.
    """

    def init_app(self, app: Flask) -> None:
        multiproc = "PROMETHEUS_MULTIPROC_DIR" in os.environ
        registry = REGISTRY if multiproc else CollectorRegistry(auto_describe=True)
        exporter = PrometheusMetrics(
            app=None,
            path=None,
            registry=registry,
            group_by="endpoint",
            excluded_paths=["^/metrics$"],
        )
        exporter.init_app(app)
        app.extensions["pelubot_metrics"] = exporter

        def prometheus_metrics() -> Response:
            refusal = scrape_refusal()
            if refusal is not None:
                return refusal
            parts: list[bytes] = []
            if multiproc:
                combined = CollectorRegistry()
                pc_multiprocess.MultiProcessCollector(combined)
                parts.append(generate_latest(combined))
            else:
                parts.append(generate_latest(registry))
                parts.append(generate_latest(REGISTRY))
            snapshot = current_app.extensions.get(QUEUE_SNAPSHOT_KEY)
            if snapshot is not None:
                queue_registry = CollectorRegistry(auto_describe=False)
                queue_registry.register(_QueueCollector(snapshot))
                parts.append(generate_latest(queue_registry))
            return Response(b"".join(parts), mimetype="text/plain; version=0.0.4")

        app.add_url_rule("/metrics", "metrics", prometheus_metrics)


def serve_worker_metrics(cfg: Config, host: str, port: int) -> WSGIServer:
    """Serve this worker's own series (``pelubot_*`` from the default registry) on
    ``host:port`` from a daemon thread; returns the server (``port=0`` picks a port).

    Workers may run on other hosts than the web, so a shared multiprocess directory
    cannot carry their counters: Prometheus scrapes each worker directly. The web's
    access rule applies (``scrape_refusal_for``): the worker listens on all interfaces
    by default, and its series are no less telling than the web's.
    """
    metrics_app = make_wsgi_app(REGISTRY)

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        refusal = scrape_refusal_for(
            cfg, environ.get("REMOTE_ADDR"), environ.get("HTTP_AUTHORIZATION", "")
        )
        if refusal is None:
            return metrics_app(environ, start_response)
        status, text, headers = refusal
        reason = "Unauthorized" if status == 401 else "Forbidden"
        start_response(f"{status} {reason}", [("Content-Type", "text/plain"), *headers.items()])
        return [text.encode()]

    server = make_server(host, port, guarded, _ThreadingWSGIServer, handler_class=_SilentHandler)
    threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
    return server


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _SilentHandler(WSGIRequestHandler):
    """No access line on stderr per scrape (the worker's logs are structured JSON)."""

    def log_message(self, format: str, *args: Any) -> None:
        return
