"""Admin views of webhook endpoints: list, add, enable/disable, remove."""

from __future__ import annotations

from flask import abort, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from pelubot_web.services import webhooks
from pelubot_web.services.errors import NotFound
from pelubot_web.web.access import require_role
from pelubot_web.web.admin import bp
from pelubot_web.web.admin.forms import WebhookForm
from pelubot_web.web.forms import ConfirmForm, post_form, saved_redirect
from pelubot_web.web.htmx import redirect_to, render


@bp.route("/webhooks", methods=["GET", "POST"])
@require_role("admin")
def webhook_endpoints() -> Response:
    form = WebhookForm()
    form.events.choices = [(e, e) for e in webhooks.EVENT_TYPE_NAMES]
    return post_form(
        form,
        lambda: webhooks.add_endpoint(
            form.url.data or "", form.secret.data or None, list(form.events.data or [])
        ),
        done=lambda endpoint: saved_redirect(
            _("Webhook endpoint added. Its signing secret: %(secret)s", secret=endpoint.secret),
            url_for(".webhook_endpoints"),
        ),
        page=lambda status: render(
            "admin/webhooks.html",
            status=status,
            form=form,
            endpoints=webhooks.list_endpoints(),
            action_form=ConfirmForm(),
        ),
    )


@bp.post("/webhooks/<int:endpoint_id>/<action>")
@require_role("admin")
def webhook_action(endpoint_id: int, action: str) -> Response:
    if action not in ("enable", "disable", "remove"):
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        if action == "remove":
            webhooks.remove_endpoint(endpoint_id)
        else:
            webhooks.set_active(endpoint_id, action == "enable")
    except NotFound:
        abort(404)
    return redirect_to(url_for(".webhook_endpoints"))
