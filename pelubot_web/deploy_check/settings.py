"""Checks of the settings alone (no I/O): environment, secrets, URLs, proxies, time zone."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_address
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

from pelubot_web.config import Config, current_config
from pelubot_web.deploy_check.findings import Finding, error, ok, warning

MIN_SECRET_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 10
# Tell-tale parts of example or development values copied into production.
PLACEHOLDER_MARKERS = ("changeme", "change-me", "example", "not-for-production", "insecure")


def _config(app: Flask) -> Config:
    return current_config(app)


def secret_weakness(value: str | None) -> str | None:
    """Why ``value`` is not a strong secret, or None when it looks randomly generated."""
    if not value:
        return "is not set"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return "has too few distinct characters to be random"
    lowered = value.lower()
    if any(marker in lowered for marker in PLACEHOLDER_MARKERS):
        return "looks like a placeholder value"
    return None


def check_environment(app: Flask) -> Iterator[Finding]:
    env = _config(app).env
    if env in ("stage", "prod"):
        yield ok("environment", f"PELUBOT_ENV is {env}")
    else:
        yield error("environment", f"PELUBOT_ENV is {env}: set stage or prod on servers")


def check_secrets(app: Flask) -> Iterator[Finding]:
    cfg = _config(app)
    named = [("PELUBOT_SECRET_KEY", cfg.secret_key), ("PELUBOT_API_KEY", cfg.api_key)]
    named += [("PELUBOT_SECRET_KEY_FALLBACKS entry", old) for old in cfg.secret_key_fallbacks]
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
    if _config(app).allow_local_no_auth:
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
    url = _config(app).public_base_url
    parts = urlsplit(url)
    if parts.scheme != "https":
        yield error("public-url", f"PELUBOT_PUBLIC_BASE_URL is not https: {url}")
    elif _is_loopback(parts.hostname):
        yield error("public-url", f"PELUBOT_PUBLIC_BASE_URL points at this machine: {url}")
    else:
        yield ok("public-url", f"customers' links start with {url}")


def check_proxies(app: Flask) -> Iterator[Finding]:
    """Listening on loopback with an https public URL means a TLS proxy is in front."""
    cfg = _config(app)
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
    name = _config(app).timezone
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        yield error("timezone", f"PELUBOT_TIMEZONE is not a known time zone: {name!r}")
        return
    yield ok("timezone", f"salon time zone {name}")
