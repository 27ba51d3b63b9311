"""Who may see what: the Flask-Login user loader and the role decorator.

Views carry one ``@require_role(...)``, which implies login; the loader resolves the
session's (or remember-me cookie's) id through ``services.logins``: the user's
``session_token`` plus a device login that logout deletes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, abort, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from pelubot_web.extensions import login_manager
from pelubot_web.models import User
from pelubot_web.services import logins
from pelubot_web.web.htmx import redirect_to

__all__ = ["require_role", "staff_home"]

F = TypeVar("F", bound=Callable[..., Any])


def require_role(*roles: str) -> Callable[[F], F]:
    """Let the view run only for users whose role is one of ``roles``.

    Anonymous users go to the login page (htmx: ``HX-Redirect``), like ``@login_required``;
    a logged-in user with another role gets 403.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


def staff_home(user: User) -> str:
    """Where a user lands after login: the agenda, the desk, the dashboard or the catalog."""
    if user.role == "ops":
        return url_for("ops.dashboard")
    if user.role == "admin":
        return url_for("admin.index")
    if user.role == "reception":
        return url_for("desk.day")
    return url_for("portal.agenda")


def _load_user(login_id: str) -> User | None:
    return logins.user_for_login_id(login_id)


def _unauthorized() -> Response:
    # htmx requests (a poll after the session ended) navigate the whole page to login.
    return redirect_to(url_for("auth.login", next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
