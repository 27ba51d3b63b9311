"""Admin ``/admin/audit``: who did what to customer data, and when."""

from __future__ import annotations

from flask import request
from werkzeug.wrappers import Response

from pelubot_web.services import audit
from pelubot_web.web.access import require_role
from pelubot_web.web.admin import bp
from pelubot_web.web.htmx import render

PAGE_SIZE = 50


@bp.get("/audit")
@require_role("admin")
def audit_log() -> Response:
    page = max(1, min(request.args.get("page", 1, type=int), 10_000))
    entries, total = audit.list_entries(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render("admin/audit.html", entries=entries, total=total, page=page, size=PAGE_SIZE)
