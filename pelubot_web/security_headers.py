"""Security headers on every response (HTML, API, errors, static), set by Flask-Talisman.

- ``Content-Security-Policy``: only the app's own scripts, styles, images, forms and
  fetches; no inline script or style (templates use classes and ``static/js/app.js``;
  htmx runs with ``allowEval``/``includeIndicatorStyles`` off), no framing, no plugins.
- ``X-Frame-Options: DENY`` for old browsers, ``X-Content-Type-Options: nosniff``.
- ``Referrer-Policy: same-origin``; a view that set a stricter one keeps it (the manage
  pages send ``no-referrer``: their URL carries the customer's token).
- ``Strict-Transport-Security`` in stage/prod, on HTTPS requests (as the spec requires;
  behind a proxy set ``PELUBOT_TRUSTED_PROXIES`` so ``X-Forwarded-Proto`` counts).

HTTPS redirects stay with the reverse proxy (``force_https`` off): the app also answers
plain-HTTP health checks on the private network.
"""

from __future__ import annotations

from flask import Flask
from flask_talisman import Talisman
from werkzeug.datastructures import Headers

from pelubot_web.config import Config

__all__ = ["CONTENT_SECURITY_POLICY", "SecurityHeaders", "init_app"]

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}
HSTS_MAX_AGE = 365 * 24 * 3600


class SecurityHeaders(Talisman):  # type: ignore[misc]
    """Talisman, except that a response's own (stricter) Referrer-Policy is kept."""

    def _set_referrer_policy_headers(self, headers: Headers) -> None:
        headers.setdefault("Referrer-Policy", self.referrer_policy)


def init_app(app: Flask, cfg: Config) -> None:
    SecurityHeaders(
        app,
        force_https=False,
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="same-origin",
        strict_transport_security=cfg.is_production_like,
        strict_transport_security_max_age=HSTS_MAX_AGE,
        strict_transport_security_include_subdomains=False,
        session_cookie_secure=cfg.is_production_like,
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        x_content_type_options=True,
        x_xss_protection=False,
    )
