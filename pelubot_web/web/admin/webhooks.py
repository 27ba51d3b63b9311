"""Admin views of webhook endpoints: list, add, enable/disable, remove."""

from __future__ import annotations

from flask import abort, flash, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from pelubot_web.services import webhooks
from pelubot_web.services.errors import DomainError, NotFound
from pelubot_web.web.access import require_role
from pelubot_web.web.admin import bp
from pelubot_web.web.admin.forms import WebhookForm
from pelubot_web.web.forms import ConfirmForm
from pelubot_web.web.htmx import redirect_to, render


def _page(form: WebhookForm, status: int = 200) -> Response:
    return render(
        "admin/webhooks.html",
        status=status,
        form=form,
        endpoints=webhooks.list_endpoints(),
        action_form=ConfirmForm(),
    )


@bp.route("/webhooks", methods=["GET", "POST"])
@require_role("admin")
def webhook_endpoints() -> Response:
    form = WebhookForm()
    form.events.choices = [(e, e) for e in webhooks.EVENT_TYPE_NAMES]
    if form.validate_on_submit():
        try:
            endpoint = webhooks.add_endpoint(
                form.url.data or "", form.secret.data or None, list(form.events.data or [])
            )
        except DomainError as error:
            return _page(form, form.show_domain_error(error))
        flash(
            _("Webhook endpoint added. Its signing secret: %(secret)s", secret=endpoint.secret),
            "success",
        )
        return redirect_to(url_for(".webhook_endpoints"))
    return _page(form, 422 if form.is_submitted() else 200)


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
