"""``python -m pelubot_web.gcal.emulator --host 127.0.0.1 --port 8085``"""

from __future__ import annotations

import argparse
import logging

from .server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m pelubot_web.gcal.emulator",
        description="Local Google Calendar API v3 emulator for PeluBot development and tests.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8085)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        serve(args.host, args.port)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
