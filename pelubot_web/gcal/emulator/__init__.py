"""A local stand-in for the Google Calendar API v3 subset PeluBot uses.

Run it with ``python -m pelubot_web.gcal.emulator``; point the client at it
with ``build_calendar_service("emulator", emulator_url=...)``.
"""

from .app import EmulatorApp, make_app
from .control import EmulatorControl
from .server import RunningEmulator, run_in_thread, serve
from .store import CalendarStore

__all__ = [
    "CalendarStore",
    "EmulatorApp",
    "EmulatorControl",
    "RunningEmulator",
    "make_app",
    "run_in_thread",
    "serve",
]
