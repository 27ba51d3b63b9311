"""``/login``, ``/logout`` and ``/lang``."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from pelubot_web.config import current_config
from pelubot_web.extensions import limiter
from pelubot_web.i18n import SUPPORTED_LOCALES
from pelubot_web.services import accounts, logins
from pelubot_web.web.access import staff_home
from pelubot_web.web.auth import bp
from pelubot_web.web.auth.forms import LoginForm

REMEMBER_FOR = timedelta(days=30)


def _login_rate_limit() -> str:
    return str(current_config().login_rate_limit)


def safe_next(target: str | None) -> str | None:
    """A same-site path to go back to, or None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return None
    return target


def _start_fresh_session() -> None:
    """Drop everything the anonymous session held (bar the language) before logging in."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.get("/")
def home() -> Response:
    """Staff land on their area; everybody else on the booking page."""
    if current_user.is_authenticated:
        return redirect(staff_home(current_user))
    return redirect(url_for("booking.start"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"], key_func=get_remote_address)
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or staff_home(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            _start_fresh_session()
            logins.start_login(user)
            login_user(user, remember=bool(form.remember.data), duration=REMEMBER_FOR)
            return redirect(safe_next(request.args.get("next")) or staff_home(user), 303)
        # One message for every failure: unknown email, wrong password, disabled account.
        form.form_errors.append(_("Email or password is incorrect."))
        return render_template("auth/login.html", form=form), 401
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["GET", "POST"])
@login_required
def logout() -> Response | str:
    if request.method == "GET":
        # Logging out changes state, so it takes a POST (with CSRF); GET asks first.
        return render_template("auth/logout.html")
    # Server side too: a copied remember-me cookie of this device stops working.
    logins.end_login(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"), 303)


@bp.post("/lang")
def set_language() -> Response:
    lang = request.form.get("lang", "")
    if lang in SUPPORTED_LOCALES:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for("booking.start"), 303)
