"""WSGI entry point: ``gunicorn wsgi:app`` (and ``flask --app wsgi``)."""

import sys

from pelubot_web import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:
    # One clear line instead of a traceback; the process exits non-zero.
    sys.exit(f"PeluBot configuration error: {exc}")
