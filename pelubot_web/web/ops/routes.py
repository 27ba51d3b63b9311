"""The sync queue at a glance: counters, a filterable job table, a page per job, retries.

The live part (counters + table) is one partial that htmx re-fetches every 5 s with the
current filters; a retry swaps the job's row (``_row.html``) at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from pelubot_web.inputs import parse_date, parse_db_int
from pelubot_web.models.outbox import OutboxStatus
from pelubot_web.services import calendar_health, catalog, sync_status
from pelubot_web.services.errors import NotFound
from pelubot_web.web.access import require_role
from pelubot_web.web.forms import ConfirmForm, post_form, saved_redirect
from pelubot_web.web.htmx import is_htmx, redirect_to, render
from pelubot_web.web.ops import bp

PAGE_SIZE = 20
POLL_SECONDS = 5
# The worker reports every few seconds; silence this long means it is gone.
WORKER_STALE_S = 60


@dataclass(frozen=True)
class Page:
    number: int
    pages: int
    total: int


def _filters() -> dict[str, Any]:
    status = request.args.get("status") or None
    if status not in tuple(OutboxStatus):
        status = None
    stylist_id = parse_db_int(request.args.get("stylist"))
    day = parse_date(request.args.get("date"))
    page = parse_db_int(request.args.get("page")) or 1
    return {"status": status, "stylist_id": stylist_id, "day": day, "page": page}


def _filter_args(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters as URL arguments (for polling, pagination and links)."""
    args: dict[str, Any] = {}
    if filters["status"]:
        args["status"] = filters["status"]
    if filters["stylist_id"]:
        args["stylist"] = filters["stylist_id"]
    if filters["day"]:
        args["date"] = filters["day"].isoformat()
    return args


def _live_context() -> dict[str, Any]:
    filters = _filters()
    jobs, total = sync_status.list_jobs(
        status=filters["status"],
        stylist_id=filters["stylist_id"],
        day=filters["day"],
        limit=PAGE_SIZE,
        offset=(filters["page"] - 1) * PAGE_SIZE,
    )
    snapshot = sync_status.queue_snapshot()
    heartbeat = snapshot.get("worker_heartbeat_age_s")
    args = _filter_args(filters)
    return {
        "jobs": jobs,
        "snapshot": snapshot,
        "worker_ok": isinstance(heartbeat, int | float) and heartbeat <= WORKER_STALE_S,
        "filters": filters,
        "filter_args": args,
        "page": Page(filters["page"], max(1, math.ceil(total / PAGE_SIZE)), total),
        "poll_url": url_for(".dashboard", **args, page=filters["page"]),
        "poll_seconds": POLL_SECONDS,
        "statuses": tuple(OutboxStatus),
        "retry_form": ConfirmForm(),
        "calendar_problems": calendar_health.stylist_calendar_health(problems_only=True),
    }


@bp.get("/")
@require_role("ops", "admin")
def dashboard() -> Response:
    return render(
        "ops/dashboard.html",
        partial="ops/_live.html",
        stylists=catalog.list_stylists(active_only=False),
        **_live_context(),
    )


def _job_or_404(job_id: int) -> Any:
    try:
        return sync_status.get_job(job_id)
    except NotFound:
        abort(404)


@bp.get("/<int:job_id>")
@require_role("ops", "admin")
def job(job_id: int) -> Response:
    return render(
        "ops/job.html",
        partial="ops/_job_detail.html",
        job=_job_or_404(job_id),
        retry_form=ConfirmForm(),
        poll_seconds=POLL_SECONDS,
    )


@bp.post("/<int:job_id>/retry")
@require_role("ops", "admin")
def retry(job_id: int) -> Response:
    was_running = _job_or_404(job_id).status == OutboxStatus.PROCESSING
    if not ConfirmForm().validate_on_submit():
        abort(400)
    retried = sync_status.retry_job(job_id)
    # A worker may claim the job the moment it is re-queued, so judge by the state before.
    if was_running:
        message = _("Job %(id)s is running right now; try again when it ends.", id=retried.id)
    else:
        message = _("Job %(id)s sent back to the queue.", id=retried.id)
    if is_htmx():
        template = "ops/_job_detail.html" if request.form.get("from") == "job" else "ops/_row.html"
        return render(
            template,
            trigger={"toast": {"message": message}},
            job=retried,
            retry_form=ConfirmForm(),
            poll_seconds=POLL_SECONDS,
        )
    flash(message, "success")
    if request.form.get("from") == "job":
        return redirect_to(url_for(".job", job_id=retried.id))
    return redirect_to(url_for(".dashboard"))


@bp.route("/retry-failed", methods=["GET", "POST"])
@require_role("ops", "admin")
def retry_failed() -> Response:
    form = ConfirmForm()

    def done(count: int) -> Response:
        message = ngettext(
            "%(num)s failed job sent back to the queue.",
            "%(num)s failed jobs sent back to the queue.",
            count,
        )
        if is_htmx():
            return render(
                "ops/_live.html", trigger={"toast": {"message": message}}, **_live_context()
            )
        return saved_redirect(message, url_for(".dashboard"))

    def page(status: int) -> Response:
        # Without JavaScript the confirmation is a page of its own.
        by_status = cast(dict[str, int], sync_status.queue_snapshot()["by_status"])
        failed = by_status.get(OutboxStatus.FAILED, 0)
        return render("ops/confirm_retry_all.html", status=status, form=form, failed=failed)

    return post_form(form, sync_status.retry_all_failed, done=done, page=page)
