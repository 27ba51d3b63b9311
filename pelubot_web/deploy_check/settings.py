"""Checks of the settings alone (no I/O): environment, secrets, URLs, proxies, time zone."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_address, ip_network
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

from pelubot_web.config import MIN_SECRET_KEY_LENGTH, Config, current_config, weak_secret_reason
from pelubot_web.deploy_check.findings import Finding, error, ok, warning

# Stricter than start-up (config.weak_secret_reason), which only refuses the obvious.
MIN_DISTINCT_CHARACTERS = 10
# Tell-tale parts of example or development values copied into production.
PLACEHOLDER_MARKERS = ("changeme", "change-me", "example", "not-for-production", "insecure")


def secret_weakness(value: str | None) -> str | None:
    """Why ``value`` is not a strong secret, or None when it looks randomly generated."""
    if not value:
        return "is not set"
    reason = weak_secret_reason(value, min_length=MIN_SECRET_KEY_LENGTH)
    if reason:
        return reason
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return "has too few distinct characters to be random"
    lowered = value.lower()
    if any(marker in lowered for marker in PLACEHOLDER_MARKERS):
        return "looks like a placeholder value"
    return None


def check_environment(app: Flask) -> Iterator[Finding]:
    env = current_config(app).env
    if env in ("stage", "prod"):
        yield ok("environment", f"PELUBOT_ENV is {env}")
    else:
        yield error("environment", f"PELUBOT_ENV is {env}: set stage or prod on servers")


def check_secrets(app: Flask) -> Iterator[Finding]:
    cfg = current_config(app)
    named = [("PELUBOT_SECRET_KEY", cfg.secret_key), ("PELUBOT_API_KEY", cfg.api_key)]
    named += [("PELUBOT_SECRET_KEY_FALLBACKS entry", old) for old in cfg.secret_key_fallbacks]
    if cfg.metrics_token is not None:
        named.append(("PELUBOT_METRICS_TOKEN", cfg.metrics_token))
    problems = [f"{name} {why}" for name, value in named if (why := secret_weakness(value))]
    problems += _shared_secrets(cfg)
    for problem in problems:
        yield error("secrets", problem)
    if not problems:
        old_keys = len(cfg.secret_key_fallbacks)
        note = f" ({old_keys} old key(s) still accepted)" if old_keys else ""
        yield ok("secrets", "secrets are strong and distinct" + note)


def _shared_secrets(cfg: Config) -> list[str]:
    problems = []
    if cfg.secret_key and cfg.secret_key == cfg.api_key:
        problems.append("PELUBOT_SECRET_KEY and PELUBOT_API_KEY are the same value")
    if cfg.secret_key in cfg.secret_key_fallbacks:
        problems.append("PELUBOT_SECRET_KEY_FALLBACKS contains the current PELUBOT_SECRET_KEY")
    if cfg.api_key and cfg.api_key in cfg.secret_key_fallbacks:
        problems.append("PELUBOT_SECRET_KEY_FALLBACKS contains PELUBOT_API_KEY")
    if len(set(cfg.secret_key_fallbacks)) != len(cfg.secret_key_fallbacks):
        problems.append("PELUBOT_SECRET_KEY_FALLBACKS lists a key twice")
    return problems


def check_local_no_auth(app: Flask) -> Iterator[Finding]:
    if current_config(app).allow_local_no_auth:
        yield error("auth", "PELUBOT_ALLOW_LOCAL_NO_AUTH is on: the API answers without a key")
    else:
        yield ok("auth", "the API requires a key")


def _is_loopback(host: str | None) -> bool:
    if not host or host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def check_public_base_url(app: Flask) -> Iterator[Finding]:
    url = current_config(app).public_base_url
    parts = urlsplit(url)
    if parts.scheme != "https":
        yield error("public-url", f"PELUBOT_PUBLIC_BASE_URL is not https: {url}")
    elif _is_loopback(parts.hostname):
        yield error("public-url", f"PELUBOT_PUBLIC_BASE_URL points at this machine: {url}")
    else:
        yield ok("public-url", f"customers' links start with {url}")


def check_proxies(app: Flask) -> Iterator[Finding]:
    """Listening on loopback with an https public URL means a TLS proxy is in front."""
    cfg = current_config(app)
    behind_proxy = _is_loopback(cfg.bind_host)
    if cfg.trusted_proxies and not behind_proxy:
        yield warning(
            "proxies",
            f"PELUBOT_TRUSTED_PROXIES={cfg.trusted_proxies} while bound to {cfg.bind_host}: "
            "clients that reach gunicorn directly can forge X-Forwarded-For",
        )
    elif cfg.trusted_proxies:
        yield ok("proxies", f"trusting {cfg.trusted_proxies} reverse proxy(ies)")
    elif behind_proxy:
        yield error(
            "proxies",
            f"bound to {cfg.bind_host} behind a proxy but PELUBOT_TRUSTED_PROXIES=0: "
            "rate limits and logs would see the proxy's address; set 1 behind nginx",
        )
    else:
        yield warning(
            "proxies",
            f"bound to {cfg.bind_host} with PELUBOT_TRUSTED_PROXIES=0: "
            "set it if a proxy or load balancer is in front",
        )


def check_timezone(app: Flask) -> Iterator[Finding]:
    name = current_config(app).timezone
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        yield error("timezone", f"PELUBOT_TIMEZONE is not a known time zone: {name!r}")
        return
    yield ok("timezone", f"salon time zone {name}")


def check_metrics(app: Flask) -> Iterator[Finding]:
    """/metrics names queues, errors and traffic: only the monitoring system may read it."""
    cfg = current_config(app)
    networks = [ip_network(net) for net in cfg.metrics_allowed_networks or ()]
    loopback = (ip_address("127.0.0.1"), ip_address("::1"))
    if any(net.prefixlen == 0 for net in networks):
        yield error("metrics", "PELUBOT_METRICS_ALLOWED_NETWORKS lets anyone read /metrics")
    elif (
        not cfg.trusted_proxies
        and _is_loopback(cfg.bind_host)
        and any(address in net for net in networks for address in loopback)
    ):
        yield error(
            "metrics",
            "behind a proxy with PELUBOT_TRUSTED_PROXIES=0 every client looks like loopback, "
            "which PELUBOT_METRICS_ALLOWED_NETWORKS allows: anyone can read /metrics",
        )
    elif networks or cfg.metrics_token:
        allowed = [str(net) for net in networks] + ["bearer token"] * bool(cfg.metrics_token)
        yield ok("metrics", f"/metrics only for {', '.join(allowed)}")
    else:
        yield warning(
            "metrics",
            "/metrics refuses every client: set PELUBOT_METRICS_ALLOWED_NETWORKS "
            "or PELUBOT_METRICS_TOKEN for Prometheus",
        )
