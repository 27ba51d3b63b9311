"""``/account``: a logged-in user changes their password or signs out everywhere."""

from __future__ import annotations

from flask import flash, make_response, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from pelubot_web.models import User
from pelubot_web.services import logins
from pelubot_web.web.auth import bp
from pelubot_web.web.auth.forms import ChangePasswordForm
from pelubot_web.web.auth.routes import REMEMBER_FOR
from pelubot_web.web.forms import BaseForm, post_form, saved_redirect
from pelubot_web.web.htmx import redirect_to


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


@bp.get("/account")
@login_required
def account() -> str:
    return render_template("auth/account.html", form=ChangePasswordForm(), confirm=BaseForm())


@bp.post("/account/password")
@login_required
def change_password() -> Response:
    form = ChangePasswordForm()
    user = _user()

    def done(_login_token: str) -> Response:
        # This device stays logged in under its fresh login; every other one is out.
        login_user(user, remember="remember_token" in request.cookies, duration=REMEMBER_FOR)
        return saved_redirect(
            _("Your password has been changed. Other devices have been logged out."),
            url_for("auth.account"),
        )

    return post_form(
        form,
        lambda: logins.change_password(
            user, form.current_password.data or "", form.new_password.data or ""
        ),
        done=done,
        page=lambda status: make_response(
            render_template("auth/account.html", form=form, confirm=BaseForm()), status
        ),
    )


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> Response | tuple[str, int]:
    if not BaseForm().validate_on_submit():
        return render_template(
            "auth/account.html", form=ChangePasswordForm(), confirm=BaseForm()
        ), 400
    logins.sign_out_everywhere(_user())
    logout_user()
    session.clear()
    flash(_("You have been logged out on every device."), "info")
    return redirect_to(url_for("auth.login"))
