"""Running the emulator: in the foreground for ``make run``, in a thread for tests."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, make_server

from .app import EmulatorApp, make_app

__all__ = ["RunningEmulator", "run_in_thread", "serve"]

log = logging.getLogger(__name__)


def serve(
    host: str = "127.0.0.1",
    port: int = 8085,
    calendars: Iterable[str] = (),
    time_zone: str = "UTC",
) -> None:
    """Serve a fresh emulator until interrupted (threaded: slow faults block no one).

    ``calendars`` are registered at start (as if shared with the service account);
    every other calendar answers 404 until registered over ``/_emulator/calendars``.
    """
    app = make_app()
    for calendar_id in calendars:
        app.store.register_calendar(calendar_id, time_zone=time_zone)
    server = make_server(host, port, app, threaded=True)
    log.info("Google Calendar emulator listening on http://%s:%d", host, server.port)
    try:
        server.serve_forever()
    finally:
        server.server_close()


@dataclass(frozen=True)
class RunningEmulator:
    url: str
    app: EmulatorApp
    server: BaseWSGIServer


@contextmanager
def run_in_thread(host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningEmulator]:
    """An emulator on a background thread; port 0 picks a free port."""
    app = make_app()
    server = make_server(host, port, app, threaded=True)
    # A short poll interval: shutdown() waits for it (0.5 s by default, per test).
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="gcal-emulator", daemon=True
    )
    thread.start()
    try:
        yield RunningEmulator(f"http://{host}:{server.port}", app, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
