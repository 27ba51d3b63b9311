"""HTML blueprints for people: staff login, stylist portal, public booking, admin, ops.

``init_app`` registers them with the pieces they share: the htmx response helper, the
role decorators and user loader, the locale filters and the HTML error pages.
"""

from __future__ import annotations

from flask import Flask

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    from pelubot_web import i18n
    from pelubot_web.web import access, errors, htmx
    from pelubot_web.web.admin import bp as admin_bp
    from pelubot_web.web.auth import bp as auth_bp
    from pelubot_web.web.booking import bp as booking_bp
    from pelubot_web.web.ops import bp as ops_bp
    from pelubot_web.web.portal import bp as portal_bp

    i18n.init_app(app)
    access.init_app(app)
    htmx.init_app(app)
    errors.init_app(app)
    for bp in (auth_bp, portal_bp, booking_bp, ops_bp, admin_bp):
        app.register_blueprint(bp)
