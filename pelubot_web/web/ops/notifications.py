"""``/admin/notifications``: the notification outbox for ops (counts, failures, retries)."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from pelubot_web.models.notify import Channel, NotificationKind, NotificationStatus
from pelubot_web.services import notifications, notify_status
from pelubot_web.services.errors import InvalidInput
from pelubot_web.web.access import require_role
from pelubot_web.web.forms import ConfirmForm
from pelubot_web.web.htmx import redirect_to, render
from pelubot_web.web.ops import notifications_bp as bp

PAGE_SIZE = 50


def _filters() -> dict[str, str | None]:
    return {name: request.args.get(name) or None for name in ("status", "kind", "channel")}


@bp.get("/")
@require_role("ops", "admin")
def dashboard() -> Response:
    filters = _filters()
    try:
        rows, total = notify_status.list_notifications(
            status=filters["status"],
            kind=filters["kind"],
            channel=filters["channel"],
            limit=PAGE_SIZE,
        )
    except InvalidInput:
        abort(400)
    return render(
        "ops/notifications.html",
        counts=notify_status.counts(),
        rows=rows,
        total=total,
        filters=filters,
        statuses=list(NotificationStatus),
        kinds=list(NotificationKind),
        channels=list(Channel),
        retry_form=ConfirmForm(),
    )


@bp.post("/<int:notification_id>/retry")
@require_role("ops", "admin")
def retry_one(notification_id: int) -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    retried = notifications.retry(notification_id)
    if retried:
        flash(_("Notification #%(id)s queued again.", id=notification_id), "success")
    else:
        flash(_("Only failed notifications can be retried."), "error")
    return redirect_to(url_for(".dashboard"))


@bp.post("/retry-failed")
@require_role("ops", "admin")
def retry_failed() -> Response:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    retried = notifications.retry()
    flash(_("%(count)s failed notification(s) queued again.", count=len(retried)), "success")
    return redirect_to(url_for(".dashboard"))
