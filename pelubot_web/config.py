"""Settings: read once from the environment (prefix ``PELUBOT_``), checked per environment.

``Config.from_env()`` is the only place that reads ``os.environ``. Tests build a ``Config``
directly (or pass overrides to ``from_env``) so nothing global is mutated.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app

log = logging.getLogger(__name__)

ENVIRONMENTS = ("dev", "test", "stage", "prod")
GCAL_BACKENDS = ("google", "emulator", "disabled")
MAIL_BACKENDS = ("smtp", "log", "disabled")
SMTP_SCHEMES = ("smtp://", "smtp+starttls://", "smtps://")
DEV_SMTP_URL = "smtp://127.0.0.1:8025"  # python -m pelubot_web.mail.catcher
MIN_API_KEY_LENGTH = 32
MIN_SECRET_KEY_LENGTH = 32
# Who may scrape /metrics when PELUBOT_METRICS_ALLOWED_NETWORKS is unset: loopback and
# private networks in dev/test; nobody in stage/prod until networks or a token are set
# (behind a reverse proxy every client may look local, so nothing is assumed there).
DEV_METRICS_NETWORKS = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
)
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "[::]", ""})
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Settings never logged. These, and the URLs that may carry a password (database, Redis,
# SMTP), are read with _secret(), so each also has a PELUBOT_<NAME>_FILE form.
SECRET_FIELDS = ("secret_key", "secret_key_fallbacks", "api_key", "metrics_token")


class ConfigError(Exception):
    """A setting is missing or invalid; the message names it in one line."""


def _str(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = env.get(f"PELUBOT_{name}")
    if value is None or value.strip() == "":
        return default
    return value.strip()


def _secret(env: Mapping[str, str], name: str, *, empty_ok: bool = False) -> str | None:
    """A secret from ``PELUBOT_<NAME>`` or from the file named by ``PELUBOT_<NAME>_FILE``.

    The file form is how Docker/Kubernetes secrets, Vault Agent and SSM / Secrets Manager
    agents hand secrets over, keeping them out of the environment and of ``ps`` output.
    """
    path = _str(env, f"{name}_FILE")
    if path is None:
        return _str(env, name)
    if _str(env, name) is not None:
        raise ConfigError(f"set PELUBOT_{name} or PELUBOT_{name}_FILE, not both")
    try:
        content = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"PELUBOT_{name}_FILE cannot be read: {exc.strerror} ({path})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"PELUBOT_{name}_FILE is not UTF-8 text ({path})") from None
    if not content.strip() and not empty_ok:
        raise ConfigError(f"PELUBOT_{name}_FILE is empty ({path})")
    return content


def _secret_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Several secrets, comma or newline separated; an empty file is an empty list."""
    raw = _secret(env, name, empty_ok=True) or ""
    return tuple(part.strip() for part in raw.replace("\n", ",").split(",") if part.strip())


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _str(env, name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"PELUBOT_{name} must be true or false, got {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = _str(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"PELUBOT_{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"PELUBOT_{name} must be >= {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = _str(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"PELUBOT_{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"PELUBOT_{name} must be >= {minimum}, got {value}")
    return value


def _hours_list(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = _str(env, name)
    if raw is None:
        return default
    try:
        hours = tuple(sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True))
    except ValueError:
        raise ConfigError(
            f"PELUBOT_{name} must be hours separated by commas, got {raw!r}"
        ) from None
    if any(h < 1 or h > 24 * 14 for h in hours):
        raise ConfigError(f"PELUBOT_{name} hours must be between 1 and 336, got {raw!r}")
    return hours


def parse_quiet_hours(raw: str) -> tuple[int, int] | None:
    """``"21-9"`` -> ``(21, 9)`` (start hour, end hour, salon time); empty -> None."""
    if not raw.strip():
        return None
    start, sep, end = raw.partition("-")
    if not sep or not start.strip().isdigit() or not end.strip().isdigit():
        raise ConfigError(f"PELUBOT_NOTIFY_QUIET_HOURS must look like 21-9, got {raw!r}")
    first, last = int(start), int(end)
    if not (0 <= first <= 23 and 0 <= last <= 23) or first == last:
        raise ConfigError(f"PELUBOT_NOTIFY_QUIET_HOURS must be two different hours 0-23: {raw!r}")
    return first, last


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...] | None:
    raw = _str(env, name)
    if raw is None:
        return None
    networks = []
    for part in raw.split(","):
        try:
            networks.append(str(ipaddress.ip_network(part.strip(), strict=False)))
        except ValueError:
            raise ConfigError(
                f"PELUBOT_{name} must be comma-separated networks (CIDR), got {part.strip()!r}"
            ) from None
    return tuple(networks)


def weak_secret_reason(value: str, *, min_length: int) -> str | None:
    """Why a secret is too weak to protect production, or None when it is fine."""
    if value.strip().lower() == "changeme":
        return "must not be 'changeme'"
    if len(value) < min_length:
        return f"must be at least {min_length} characters"
    if len(set(value)) == 1:
        return "must not be one character repeated"
    return None


def is_wildcard_bind(address: str) -> bool:
    """True for a bind address that listens on every interface (``0.0.0.0:8000``, ``[::]``)."""
    host = address.rsplit(":", 1)[0] if address.count(":") == 1 else address
    if host.startswith("[") and "]" in host:
        host = host[1 : host.index("]")]
    return host in WILDCARD_HOSTS


def warn_if_open_without_auth(cfg: Config, bind_addresses: list[str] | tuple[str, ...]) -> bool:
    """Warn (and return True) when local no-auth is on and the server listens everywhere.

    Key-less calls are still only admitted from the loopback address, but a dev server
    reachable from the network with auth switched off is worth a loud line.
    """
    open_binds = [a for a in bind_addresses if is_wildcard_bind(a)]
    if cfg.allow_local_no_auth and open_binds:
        log.warning(
            "PELUBOT_ALLOW_LOCAL_NO_AUTH is on while bound to %s: the server is reachable "
            "from the network (key-less API calls are still only accepted from loopback)",
            ", ".join(open_binds),
        )
        return True
    return False


def _optional_port(env: Mapping[str, str], name: str) -> int | None:
    if _str(env, name) is None:
        return None
    port = _int(env, name, 0, 0)
    if port > 65535:
        raise ConfigError(f"PELUBOT_{name} must be a TCP port (0-65535), got {port}")
    return port


def default_sqlite_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'instance' / 'pelubot.sqlite3'}"


@dataclass(frozen=True)
class Config:
    """Every PeluBot setting. Field names match ``PELUBOT_<NAME>`` upper-cased."""

    env: str = "dev"
    database_url: str = field(default_factory=default_sqlite_url)
    redis_url: str = "redis://127.0.0.1:6379/0"
    secret_key: str | None = None
    # Old secret keys still accepted on incoming cookies and CSRF tokens (rotation).
    secret_key_fallbacks: tuple[str, ...] = ()
    api_key: str | None = None
    allow_local_no_auth: bool = False
    timezone: str = "Europe/Madrid"
    gcal_backend: str = "emulator"
    gcal_credentials_file: str | None = None
    gcal_emulator_url: str = "http://127.0.0.1:8085"
    gcal_timeout_s: float = 10.0
    bind_host: str = "127.0.0.1"
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0 = none).
    trusted_proxies: int = 0
    public_base_url: str = "http://127.0.0.1:5000"
    # Queue tuning.
    queue_name: str = "calendar-sync"
    sync_max_attempts: int = 8
    sync_backoff_base_s: float = 2.0
    sync_backoff_cap_s: float = 300.0
    sync_poll_interval_s: float = 5.0
    pull_interval_s: float = 60.0
    # Google: shared request budget for all workers (0 = off), usage-limit backoff.
    gcal_rate_per_minute: float = 300.0
    sync_quota_backoff_s: float = 900.0
    # Each worker serves its own Prometheus metrics here (None = off, 0 = any free port).
    worker_metrics_port: int | None = None
    worker_metrics_host: str = "0.0.0.0"
    # Succeeded outbox rows older than this are pruned by the dispatcher.
    outbox_retention_days: int = 30
    # /ready/sync: the oldest open outbox row may be this old before it answers 503.
    sync_stale_after_s: float = 900.0
    # Rate limits (Flask-Limiter syntax).
    api_rate_limit: str = "120/minute"
    login_rate_limit: str = "10/minute"
    booking_rate_limit: str = "30/minute"
    catalog_cache_ttl_s: float = 30.0
    redis_timeout_s: float = 1.0
    # Customer notifications (email, webhooks).
    mail_backend: str = "disabled"
    smtp_url: str | None = None
    smtp_timeout_s: float = 10.0
    mail_from: str = "PeluBot <reservas@localhost>"
    salon_name: str = "PeluBot"
    salon_address: str = ""
    reminder_hours: tuple[int, ...] = (24,)
    notify_quiet_hours: str = "21-9"
    notify_queue_name: str = "notifications"
    notify_max_attempts: int = 8
    # Retry backoff of emails and webhooks: SMTP and receivers, not Google's quotas.
    notify_backoff_base_s: float = 2.0
    notify_backoff_cap_s: float = 300.0
    webhook_timeout_s: float = 5.0
    max_content_length: int = 64 * 1024
    # /metrics: client networks allowed to scrape (None = the environment's default, see
    # DEV_METRICS_NETWORKS) and/or a bearer token that is accepted from anywhere.
    metrics_allowed_networks: tuple[str, ...] | None = None
    metrics_token: str | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_production_like(self) -> bool:
        return self.env in ("stage", "prod")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """Build the config from ``environ`` (default ``os.environ``), then apply overrides."""
        env = os.environ if environ is None else environ
        defaults = cls()
        values: dict[str, Any] = {
            "env": _str(env, "ENV", defaults.env),
            "database_url": _secret(env, "DATABASE_URL") or defaults.database_url,
            "redis_url": _secret(env, "REDIS_URL") or defaults.redis_url,
            "secret_key": _secret(env, "SECRET_KEY"),
            "secret_key_fallbacks": _secret_list(env, "SECRET_KEY_FALLBACKS"),
            "api_key": _secret(env, "API_KEY"),
            "allow_local_no_auth": _bool(env, "ALLOW_LOCAL_NO_AUTH", False),
            "timezone": _str(env, "TIMEZONE", defaults.timezone),
            "gcal_backend": _str(env, "GCAL_BACKEND", defaults.gcal_backend),
            "gcal_credentials_file": _str(env, "GCAL_CREDENTIALS_FILE"),
            "gcal_emulator_url": _str(env, "GCAL_EMULATOR_URL", defaults.gcal_emulator_url),
            "gcal_timeout_s": _float(env, "GCAL_TIMEOUT_S", defaults.gcal_timeout_s, 0.1),
            "bind_host": _str(env, "BIND_HOST", defaults.bind_host),
            "trusted_proxies": _int(env, "TRUSTED_PROXIES", defaults.trusted_proxies, 0),
            "public_base_url": _str(env, "PUBLIC_BASE_URL", defaults.public_base_url),
            "queue_name": _str(env, "QUEUE_NAME", defaults.queue_name),
            "sync_max_attempts": _int(env, "SYNC_MAX_ATTEMPTS", defaults.sync_max_attempts, 1),
            "sync_backoff_base_s": _float(
                env, "SYNC_BACKOFF_BASE_S", defaults.sync_backoff_base_s, 0.0
            ),
            "sync_backoff_cap_s": _float(env, "SYNC_BACKOFF_CAP_S", defaults.sync_backoff_cap_s),
            "sync_poll_interval_s": _float(
                env, "SYNC_POLL_INTERVAL_S", defaults.sync_poll_interval_s, 0.1
            ),
            "pull_interval_s": _float(env, "PULL_INTERVAL_S", defaults.pull_interval_s, 0.1),
            "gcal_rate_per_minute": _float(
                env, "GCAL_RATE_PER_MINUTE", defaults.gcal_rate_per_minute, 0.0
            ),
            "sync_quota_backoff_s": _float(
                env, "SYNC_QUOTA_BACKOFF_S", defaults.sync_quota_backoff_s, 0.0
            ),
            "worker_metrics_port": _optional_port(env, "WORKER_METRICS_PORT"),
            "worker_metrics_host": _str(env, "WORKER_METRICS_HOST", defaults.worker_metrics_host),
            "outbox_retention_days": _int(
                env, "OUTBOX_RETENTION_DAYS", defaults.outbox_retention_days, 1
            ),
            "sync_stale_after_s": _float(
                env, "SYNC_STALE_AFTER_S", defaults.sync_stale_after_s, 1.0
            ),
            "api_rate_limit": _str(env, "API_RATE_LIMIT", defaults.api_rate_limit),
            "login_rate_limit": _str(env, "LOGIN_RATE_LIMIT", defaults.login_rate_limit),
            "booking_rate_limit": _str(env, "BOOKING_RATE_LIMIT", defaults.booking_rate_limit),
            "catalog_cache_ttl_s": _float(
                env, "CATALOG_CACHE_TTL_S", defaults.catalog_cache_ttl_s, 0.0
            ),
            "metrics_allowed_networks": _networks(env, "METRICS_ALLOWED_NETWORKS"),
            "metrics_token": _secret(env, "METRICS_TOKEN"),
        }
        values.update(_notify_settings(env, defaults, dev=values["env"] == "dev"))
        values.update(overrides)
        return cls(**values).validated()

    def replace(self, **changes: Any) -> Config:
        return replace(self, **changes).validated()

    def validated(self) -> Config:
        """Check the settings for this environment; raise ConfigError naming the first bad one.

        Returns a copy with dev/test conveniences applied (a random dev secret key,
        local no-auth switched off outside dev, the default /metrics networks).
        """
        self._check_shapes()
        if self.is_production_like:
            self._check_production_secrets()
            if self.gcal_backend == "google" and not self.gcal_credentials_file:
                raise ConfigError("PELUBOT_GCAL_CREDENTIALS_FILE is required when backend=google")
        changes = self._normalised_urls() | self._environment_defaults()
        return replace(self, **changes) if changes else self

    def _check_shapes(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise ConfigError(f"PELUBOT_ENV must be one of {', '.join(ENVIRONMENTS)}")
        if self.gcal_backend not in GCAL_BACKENDS:
            raise ConfigError(f"PELUBOT_GCAL_BACKEND must be one of {', '.join(GCAL_BACKENDS)}")
        self._check_notify_settings()
        if self.catalog_cache_ttl_s > 30:
            raise ConfigError("PELUBOT_CATALOG_CACHE_TTL_S must be at most 30 seconds")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"PELUBOT_TIMEZONE is not a known time zone: {self.timezone!r}"
            ) from None
        if not (self.database_url.startswith("sqlite") or self.database_url.startswith("postgres")):
            raise ConfigError("PELUBOT_DATABASE_URL must be a sqlite:// or postgresql:// URL")
        if not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError("PELUBOT_REDIS_URL must be a redis://, rediss:// or unix:// URL")

    def _normalised_urls(self) -> dict[str, Any]:
        if self.database_url.startswith("postgres://"):
            return {"database_url": "postgresql+psycopg://" + self.database_url[11:]}
        if self.database_url.startswith("postgresql://"):
            return {"database_url": "postgresql+psycopg://" + self.database_url[13:]}
        return {}

    def _environment_defaults(self) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if not self.is_production_like and not self.secret_key:
            # dev/test only: an ephemeral key (sessions end at restart), never a fixed string.
            changes["secret_key"] = secrets.token_urlsafe(32)
        if self.allow_local_no_auth and self.env != "dev":
            log.warning("PELUBOT_ALLOW_LOCAL_NO_AUTH is ignored outside dev (env=%s)", self.env)
            changes["allow_local_no_auth"] = False
        elif self.allow_local_no_auth:
            warn_if_open_without_auth(self, [self.bind_host])
        if self.metrics_allowed_networks is None:
            default = () if self.is_production_like else DEV_METRICS_NETWORKS
            changes["metrics_allowed_networks"] = default
        return changes

    @property
    def quiet_hours(self) -> tuple[int, int] | None:
        return parse_quiet_hours(self.notify_quiet_hours)

    def _check_notify_settings(self) -> None:
        if self.mail_backend not in MAIL_BACKENDS:
            raise ConfigError(f"PELUBOT_MAIL_BACKEND must be one of {', '.join(MAIL_BACKENDS)}")
        if self.mail_backend == "smtp" and not self.smtp_url:
            raise ConfigError("PELUBOT_SMTP_URL is required when PELUBOT_MAIL_BACKEND=smtp")
        if self.smtp_url and not self.smtp_url.startswith(SMTP_SCHEMES):
            raise ConfigError(f"PELUBOT_SMTP_URL must start with one of {', '.join(SMTP_SCHEMES)}")
        parse_quiet_hours(self.notify_quiet_hours)

    def _check_production_secrets(self) -> None:
        """Stage/prod refuse a missing or guessable API key or cookie-signing key."""
        if not self.api_key:
            raise ConfigError("PELUBOT_API_KEY is required in stage/prod")
        reason = weak_secret_reason(self.api_key, min_length=MIN_API_KEY_LENGTH)
        if reason:
            raise ConfigError(f"PELUBOT_API_KEY {reason}")
        if not self.secret_key:
            raise ConfigError("PELUBOT_SECRET_KEY is required in stage/prod")
        reason = weak_secret_reason(self.secret_key, min_length=MIN_SECRET_KEY_LENGTH)
        if reason:
            raise ConfigError(f"PELUBOT_SECRET_KEY {reason}")
        if self.secret_key == self.api_key:
            raise ConfigError("PELUBOT_SECRET_KEY must differ from PELUBOT_API_KEY")
        if self.api_key in self.secret_key_fallbacks:
            raise ConfigError("PELUBOT_SECRET_KEY_FALLBACKS must not contain PELUBOT_API_KEY")
        if self.metrics_token is not None:
            reason = weak_secret_reason(self.metrics_token, min_length=MIN_SECRET_KEY_LENGTH)
            if reason:
                raise ConfigError(f"PELUBOT_METRICS_TOKEN {reason}")

    def redacted(self) -> dict[str, Any]:
        """Settings safe to log: secrets replaced by a marker."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value:
                value = "***"
            elif f.name in ("database_url", "redis_url", "smtp_url") and isinstance(value, str):
                value = _redact_url(value)
            out[f.name] = value
        return out


def _notify_settings(env: Mapping[str, str], defaults: Config, *, dev: bool) -> dict[str, Any]:
    # In dev, mail goes to the local catcher that `make run` starts (like the Calendar
    # emulator); elsewhere nothing is sent until SMTP is configured.
    return {
        "mail_backend": _str(env, "MAIL_BACKEND", "smtp" if dev else defaults.mail_backend),
        # May carry the SMTP password: a secret, so PELUBOT_SMTP_URL_FILE works too.
        "smtp_url": _secret(env, "SMTP_URL") or (DEV_SMTP_URL if dev else None),
        "smtp_timeout_s": _float(env, "SMTP_TIMEOUT_S", defaults.smtp_timeout_s, 0.1),
        "mail_from": _str(env, "MAIL_FROM", defaults.mail_from),
        "salon_name": _str(env, "SALON_NAME", defaults.salon_name),
        "salon_address": _str(env, "SALON_ADDRESS", defaults.salon_address),
        "reminder_hours": _hours_list(env, "REMINDER_HOURS", defaults.reminder_hours),
        # Unlike other settings, an empty value means something: no quiet hours.
        "notify_quiet_hours": env.get("PELUBOT_NOTIFY_QUIET_HOURS", defaults.notify_quiet_hours),
        "notify_queue_name": _str(env, "NOTIFY_QUEUE_NAME", defaults.notify_queue_name),
        "notify_max_attempts": _int(env, "NOTIFY_MAX_ATTEMPTS", defaults.notify_max_attempts, 1),
        "notify_backoff_base_s": _float(
            env, "NOTIFY_BACKOFF_BASE_S", defaults.notify_backoff_base_s, 0.0
        ),
        "notify_backoff_cap_s": _float(env, "NOTIFY_BACKOFF_CAP_S", defaults.notify_backoff_cap_s),
        "webhook_timeout_s": _float(env, "WEBHOOK_TIMEOUT_S", defaults.webhook_timeout_s, 0.1),
    }


def _redact_url(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


_EXTENSION_KEY = "pelubot_config"


def install_config(app: Flask, config: Config) -> None:
    """Attach the settings to the app (``create_app`` does this, once)."""
    app.extensions[_EXTENSION_KEY] = config


def current_config(app: Flask | None = None) -> Config:
    """The settings of ``app``, or of the current app: typed, one lookup for everyone."""
    target = app if app is not None else current_app
    config: Config = target.extensions[_EXTENSION_KEY]
    return config
