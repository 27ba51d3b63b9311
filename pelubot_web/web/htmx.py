"""One place that decides between a full page and an htmx fragment.

A view renders the page template for normal requests and only the partial for htmx
requests (``HX-Request: true``); redirects become ``HX-Redirect`` for htmx, and
follow-up updates (toasts, list refreshes) travel in ``HX-Trigger``. Every HTML
response varies on ``HX-Request`` so caches never serve a fragment as a page.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, make_response, redirect, render_template, request
from werkzeug.wrappers import Response

from pelubot_web.api_path import is_api_request

__all__ = ["empty", "is_htmx", "redirect_to", "render"]


def is_htmx() -> bool:
    """An htmx request that wants a fragment (history restores want the full page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _set_trigger(response: Response, trigger: dict[str, Any] | None) -> None:
    if trigger:
        response.headers["HX-Trigger"] = json.dumps(trigger, ensure_ascii=True)


def render(
    template: str,
    *,
    partial: str | None = None,
    status: int = 200,
    trigger: dict[str, Any] | None = None,
    **context: Any,
) -> Response:
    """Render ``template`` (a page) or, for htmx requests, ``partial`` (a fragment)."""
    name = partial if partial is not None and is_htmx() else template
    response = make_response(render_template(name, **context), status)
    _set_trigger(response, trigger)
    return response


def empty(*, trigger: dict[str, Any] | None = None) -> Response:
    """An empty 200 for htmx: the target is swapped with nothing (a removed item)."""
    response = make_response("", 200)
    _set_trigger(response, trigger)
    return response


def redirect_to(location: str, *, trigger: dict[str, Any] | None = None) -> Response:
    """303 for browsers; for htmx an ``HX-Redirect`` so the whole page navigates."""
    response: Response
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = location
    else:
        response = redirect(location, 303)
    _set_trigger(response, trigger)
    return response


def _vary_on_hx_request(response: Response) -> Response:
    if not is_api_request():
        response.vary.add("HX-Request")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_vary_on_hx_request)
