"""HTML blueprints for people: staff login, stylist portal, public booking, admin, ops.

``init_app`` registers them with the pieces they share: the htmx response helper, the
role decorators and user loader and the locale filters. (Error pages: ``pelubot_web/errors.py``.)
"""

from __future__ import annotations

from flask import Flask

__all__ = ["init_app"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def init_app(app: Flask) -> None:
    from pelubot_web import i18n
    from pelubot_web.web import access, htmx
    from pelubot_web.web.admin import bp as admin_bp
    from pelubot_web.web.auth import bp as auth_bp
    from pelubot_web.web.booking import bp as booking_bp
    from pelubot_web.web.customers import bp as customers_bp
    from pelubot_web.web.desk import bp as desk_bp
    from pelubot_web.web.ops import bp as ops_bp
    from pelubot_web.web.ops import notifications_bp
    from pelubot_web.web.portal import bp as portal_bp

    i18n.init_app(app)
    access.init_app(app)
    htmx.init_app(app)
    blueprints = (
        auth_bp,
        portal_bp,
        booking_bp,
        ops_bp,
        notifications_bp,
        admin_bp,
        desk_bp,
        customers_bp,
    )
    for bp in blueprints:
        app.register_blueprint(bp)
    html_blueprints = frozenset(bp.name for bp in blueprints)

    @app.before_request
    def _refuse_nul() -> None:
        """NUL is never part of a real URL or form, and PostgreSQL cannot store it: any
        request carrying one (path, query or form value) is a 400 before a view runs."""
        from flask import abort, request

        if request.path.startswith("/api/"):
            return  # the API's schemas refuse control characters per field (422)
        pairs = list(request.args.items(multi=True))
        if request.method not in SAFE_METHODS and request.mimetype in FORM_MIMETYPES:
            pairs += request.form.items(multi=True)
        if "\x00" in request.path or any("\x00" in k + v for k, v in pairs):
            abort(400)

    @app.before_request
    def _writers_lock_first() -> None:
        """A form submission reads, then writes: on SQLite it must hold the write lock
        from its first statement, or a commit by another process in between makes its
        write fail at once ("database is locked"). A no-op on PostgreSQL."""
        from flask import request

        from pelubot_web.db_engine import begin_write

        if request.blueprint in html_blueprints and request.method not in SAFE_METHODS:
            begin_write()
