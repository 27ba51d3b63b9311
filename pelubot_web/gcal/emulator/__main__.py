"""``python -m pelubot_web.gcal.emulator --host 127.0.0.1 --port 8085 [--demo] [--calendar ID]``"""

from __future__ import annotations

import argparse
import contextlib
import logging

from .server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m pelubot_web.gcal.emulator",
        description="Local Google Calendar API v3 emulator for PeluBot development and tests.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8085)
    parser.add_argument(
        "--calendar",
        action="append",
        default=[],
        metavar="ID",
        help="register this calendar at start (repeatable); unknown calendars answer 404",
    )
    parser.add_argument(
        "--demo", action="store_true", help="register the demo salon's stylist calendars"
    )
    parser.add_argument("--time-zone", default="Europe/Madrid", help="of registered calendars")
    args = parser.parse_args(argv)
    calendars = list(args.calendar)
    if args.demo:
        # Only for this flag: the demo data lives with the app's services.
        from pelubot_web.services.demo import STYLISTS

        calendars += [stylist.calendar_id for stylist in STYLISTS]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.host, args.port, calendars, args.time_zone)


if __name__ == "__main__":
    main()
