"""Admin views of portal users."""

from __future__ import annotations

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from pelubot_web.services import catalog, user_admin
from pelubot_web.services.errors import NotFound
from pelubot_web.web.access import require_role
from pelubot_web.web.admin import bp
from pelubot_web.web.admin.forms import ROLE_LABELS, EditUserForm, NewUserForm
from pelubot_web.web.forms import post_form, saved_redirect
from pelubot_web.web.htmx import render


def _stylist_choices() -> list[SelectChoice]:
    stylists = catalog.list_stylists(active_only=False)
    return [SelectChoice(0, "—")] + [SelectChoice(s.id, s.name) for s in stylists]


@bp.get("/users")
@require_role("admin")
def users() -> Response:
    return render("admin/users.html", users=user_admin.list_users(), role_labels=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@require_role("admin")
def new_user() -> Response:
    form = NewUserForm()
    form.stylist_id.choices = _stylist_choices()
    return post_form(
        form,
        lambda: user_admin.create_user(
            form.email.data or "",
            form.password.data or "",
            form.role.data or "",
            form.stylist_id.data or None,
        ),
        done=lambda user: saved_redirect(
            _("User %(email)s created.", email=user.email), url_for(".users")
        ),
        page=lambda status: render("admin/user_form.html", status=status, form=form, user=None),
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require_role("admin")
def edit_user(user_id: int) -> Response:
    try:
        user = user_admin.get_user(user_id)
    except NotFound:
        abort(404)
    form = EditUserForm(obj=user)
    form.stylist_id.choices = _stylist_choices()
    if not form.is_submitted():
        form.stylist_id.data = user.stylist_id or 0
    return post_form(
        form,
        lambda: user_admin.update_user(
            user.id,
            role=form.role.data or "",
            stylist_id=form.stylist_id.data or None,
            active=bool(form.active.data),
            new_password=form.new_password.data or None,
            acting_user_id=current_user.id,
        ),
        done=lambda _saved: saved_redirect(
            _("User %(email)s saved.", email=user.email), url_for(".users")
        ),
        page=lambda status: render("admin/user_form.html", status=status, form=form, user=user),
    )
