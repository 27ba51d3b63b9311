"""WSGI entry point: ``gunicorn wsgi:app`` (and ``flask --app wsgi``)."""

import sys

from pelubot_web import ConfigError, create_app
from pelubot_web.observability import configure_logging

configure_logging()
try:
    app = create_app()
except ConfigError as exc:
    # One clear line instead of a traceback; the process exits non-zero.
    sys.exit(f"PeluBot configuration error: {exc}")
