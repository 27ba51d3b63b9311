"""Admin ``/admin/api-keys``: the machine clients' keys (never the secrets) and revoking."""

from __future__ import annotations

from flask import abort, flash, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from pelubot_web.services import accounts
from pelubot_web.services.errors import NotFound
from pelubot_web.web.access import require_role
from pelubot_web.web.admin import bp
from pelubot_web.web.forms import ConfirmForm
from pelubot_web.web.htmx import redirect_to, render


@bp.get("/api-keys")
@require_role("admin")
def api_keys() -> Response:
    return render("admin/api_keys.html", keys=accounts.list_api_keys(), form=ConfirmForm())


@bp.post("/api-keys/<int:key_id>/revoke")
@require_role("admin")
def revoke_api_key(key_id: int) -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        key = accounts.revoke_api_key(key_id)
    except NotFound:
        abort(404)
    flash(_("API key %(name)s revoked.", name=key.name), "success")
    return redirect_to(url_for(".api_keys"))
