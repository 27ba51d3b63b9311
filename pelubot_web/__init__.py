"""PeluBot: the booking backend of a hair salon.

``create_app`` only wires things together: config, extensions, blueprints. It opens no
connection and touches no file; the database, Redis and Google are reached on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from pelubot_web import key_rotation
from pelubot_web.config import Config, ConfigError, install_config
from pelubot_web.inputs import DbIntConverter
from pelubot_web.observability import PeluBotFlask

__all__ = ["ConfigError", "create_app"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Config | Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app.

    ``config`` is a ready ``Config``, a mapping of overrides applied on top of the
    environment, or ``None`` to read the environment alone. Raises ``ConfigError``.
    """
    if config is None:
        cfg = Config.from_env()
    elif isinstance(config, Config):
        cfg = config.validated()
    else:
        cfg = Config.from_env(**dict(config))

    app = PeluBotFlask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    # Before any route exists: <int:...> then only matches ids the database can hold.
    app.url_map.converters["int"] = DbIntConverter
    _apply_flask_config(app, cfg)
    if cfg.trusted_proxies:
        # Client IPs (rate limits, logs) and https come from the proxy's headers.
        n = cfg.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    _init_extensions(app, cfg)
    _register_blueprints(app)
    return app


def _apply_flask_config(app: Flask, cfg: Config) -> None:
    install_config(app, cfg)
    # Liveness pings only for connections that rested (db_engine.ping_rested_connections).
    engine_options: dict[str, Any] = {}
    if cfg.database_url.startswith("sqlite"):
        # Each request may wait up to 15 s for SQLite's write lock instead of failing.
        engine_options["connect_args"] = {"timeout": 15}
    else:
        engine_options["connect_args"] = {"connect_timeout": 5}
    app.config.update(key_rotation.signing_settings(cfg.secret_key, cfg.secret_key_fallbacks))
    app.config.update(
        TESTING=cfg.env == "test",
        SQLALCHEMY_DATABASE_URI=cfg.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options,
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        MAX_CONTENT_LENGTH=cfg.max_content_length,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cfg.is_production_like,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=cfg.is_production_like,
        REMEMBER_COOKIE_DURATION=60 * 60 * 24 * 30,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="es",
        BABEL_DEFAULT_TIMEZONE=cfg.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        RATELIMIT_STORAGE_URI=cfg.redis_url,
        RATELIMIT_STORAGE_OPTIONS={
            "socket_timeout": cfg.redis_timeout_s,
            "socket_connect_timeout": cfg.redis_timeout_s,
        },
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_ENABLED=True,
        # A moving window is exact: a fixed window lets a burst straddle two windows
        # (twice the limit), which also made the login limit test depend on the clock.
        RATELIMIT_STRATEGY="moving-window",
    )


def _init_extensions(app: Flask, cfg: Config) -> None:
    from pelubot_web import (
        db_engine,
        models,  # noqa: F401  (registers the models on the metadata)
        observability,
        redis_client,
        security_headers,
    )
    from pelubot_web.extensions import babel, csrf, db, limiter, login_manager, metrics, migrate
    from pelubot_web.i18n import select_locale, select_timezone
    from pelubot_web.services import outbox, shared_cache

    observability.init_app(app)
    security_headers.init_app(app, cfg)
    redis_client.init_app(app)
    db.init_app(app)
    db_engine.init_app(app)
    shared_cache.init_app(app)
    outbox.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    metrics.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from pelubot_web import api, cli, errors, web
    from pelubot_web.metrics import QUEUE_SNAPSHOT_KEY
    from pelubot_web.probes import bp as probes_bp
    from pelubot_web.probes import register_check
    from pelubot_web.services import calendar_health, sync_status

    app.register_blueprint(probes_bp)
    api.init_app(app)
    register_check(app, "worker", sync_status.check_worker)
    register_check(app, "calendar_credentials", sync_status.check_calendar_credentials)
    app.extensions[QUEUE_SNAPSHOT_KEY] = calendar_health.metrics_snapshot
    web.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
