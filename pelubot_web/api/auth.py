"""API authentication (``X-API-Key``), scopes and the per-key rate limit.

Stack ``@require_scope("booking")`` (or ``"ops"``) on each API view, outermost, so the
key is checked before the input is parsed. It also documents the security requirement
and the 401/403/429 responses in the OpenAPI spec.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint

from pelubot_web.api.errors import problem
from pelubot_web.config import current_config
from pelubot_web.extensions import limiter
from pelubot_web.models.user import API_SCOPES
from pelubot_web.services.accounts import Principal, principal_for_key

__all__ = [
    "API_KEY_HEADER",
    "SECURITY_SCHEME",
    "current_principal",
    "rate_limit_api",
    "rate_limit_key",
    "require_scope",
    "resolve_principal",
]

API_KEY_HEADER = "X-API-Key"
SECURITY_SCHEME = "ApiKeyAuth"
LOCAL_DEV_PRINCIPAL = Principal(name="local-dev", scopes=frozenset(API_SCOPES))
_G_KEY = "pelubot_principal"

F = TypeVar("F", bound=Callable[..., Any])


def resolve_principal() -> Principal | None:
    """Who is calling (cached on ``g`` for the request), or None.

    A presented key must be valid: a wrong key is never treated as "no key", even when
    ``PELUBOT_ALLOW_LOCAL_NO_AUTH`` lets key-less calls through in dev.
    """
    # Cached in the WSGI environ, which lives exactly as long as the request (``g`` can
    # outlive it when an app context was already pushed, as in tests and the CLI).
    if _G_KEY in request.environ:
        cached: Principal | None = request.environ[_G_KEY]
        return cached
    cfg = current_config()
    presented = request.headers.get(API_KEY_HEADER, "")
    principal: Principal | None
    if presented:
        principal = principal_for_key(presented, cfg.api_key)
    elif cfg.allow_local_no_auth and cfg.env == "dev" and _from_loopback():
        principal = LOCAL_DEV_PRINCIPAL
    else:
        principal = None
    request.environ[_G_KEY] = principal
    return principal


def _from_loopback() -> bool:
    """Key-less dev calls are for the developer's own machine only (127.0.0.1, ::1)."""
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def current_principal() -> Principal:
    """The principal set by ``require_scope`` (only valid inside a decorated view)."""
    principal: Principal = g.principal
    return principal


def require_scope(scope: str) -> Callable[[F], F]:
    """Reject the call with 401 (no or wrong key) or 403 (key without ``scope``)."""
    if scope not in API_SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def decorator(func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = resolve_principal()
            if principal is None:
                presented = bool(request.headers.get(API_KEY_HEADER))
                return problem(
                    401,
                    detail=(
                        "The API key is not valid."
                        if presented
                        else f"Send your API key in the {API_KEY_HEADER} header."
                    ),
                    headers={"WWW-Authenticate": f'ApiKey header="{API_KEY_HEADER}"'},
                )
            if scope not in principal.scopes:
                return problem(403, detail=f"This API key lacks the {scope!r} scope.")
            g.principal = principal
            return func(*args, **kwargs)

        apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
        responses = apidoc.setdefault("response", {}).setdefault("responses", {})
        for status, ref in ((401, "UNAUTHORIZED"), (403, "FORBIDDEN"), (429, "TOO_MANY_REQUESTS")):
            responses.setdefault(status, []).append(ref)
        wrapper._apidoc = apidoc  # type: ignore[attr-defined]
        documented: F = Blueprint.doc(security=[{SECURITY_SCHEME: []}])(wrapper)
        return documented

    return decorator


def rate_limit_key() -> str:
    """Per API key when a valid one is presented, per client IP otherwise."""
    principal = resolve_principal()
    if principal is not None:
        return principal.rate_limit_key
    return f"ip:{get_remote_address()}"


def _api_rate_limit() -> str:
    limit: str = current_config().api_rate_limit
    return limit


def rate_limit_api(blueprint: Blueprint) -> Blueprint:
    """Apply the shared API limit (``PELUBOT_API_RATE_LIMIT``) to a blueprint.

    All API blueprints share one counter per caller (scope "api"), stored in Redis so
    every process sees it; Flask-Limiter falls back to memory when Redis is down.
    """
    limiter.shared_limit(_api_rate_limit, scope="api", key_func=rate_limit_key)(blueprint)
    return blueprint
