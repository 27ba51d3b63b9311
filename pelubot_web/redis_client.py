"""The app's Redis connection, built lazily from ``PELUBOT_REDIS_URL``."""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis

from pelubot_web.config import Config, current_config


def make_redis(config: Config) -> Redis:
    """A client with short socket timeouts: a dead Redis must never hang a request."""
    return Redis.from_url(
        config.redis_url,
        socket_timeout=config.redis_timeout_s,
        socket_connect_timeout=config.redis_timeout_s,
        health_check_interval=30,
    )


def init_app(app: Flask) -> None:
    # Redis.from_url does no I/O: the connection is opened on first command.
    app.extensions["redis"] = make_redis(current_config(app))


def get_redis(app: Flask | None = None) -> Redis:
    target = app or current_app
    redis: Redis = target.extensions["redis"]
    return redis
