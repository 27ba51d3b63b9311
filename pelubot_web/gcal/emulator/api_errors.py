"""Google's error answers: status, reason and message in its JSON shape."""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError"]

_DEFAULT_REASON = {
    400: "invalid",
    401: "authError",
    403: "forbidden",
    404: "notFound",
    405: "httpMethodNotAllowed",
    409: "duplicate",
    410: "deleted",
    412: "conditionNotMet",
    429: "rateLimitExceeded",
}
_MESSAGES = {
    "invalid": "Invalid Value",
    "badRequest": "Bad Request",
    "required": "Required",
    "parseError": "Parse Error",
    "authError": "Invalid Credentials",
    "forbidden": "Forbidden",
    "requiredAccessLevel": "You need to have writer access to this calendar.",
    "notFound": "Not Found",
    "httpMethodNotAllowed": "Method Not Allowed",
    "duplicate": "The requested identifier already exists.",
    "deleted": "Resource has been deleted",
    "fullSyncRequired": "Sync token is no longer valid, a full sync is required.",
    "conditionNotMet": "Precondition Failed",
    "timeRangeEmpty": "The specified time range is empty.",
    "rateLimitExceeded": "Rate Limit Exceeded",
    "userRateLimitExceeded": "User Rate Limit Exceeded",
    "quotaExceeded": "Calendar usage limits exceeded.",
    "dailyLimitExceeded": "Daily Limit Exceeded",
    "backendError": "Backend Error",
}
_DOMAINS = {
    "rateLimitExceeded": "usageLimits",
    "userRateLimitExceeded": "usageLimits",
    "quotaExceeded": "usageLimits",
    "dailyLimitExceeded": "usageLimits",
    "timeRangeEmpty": "calendar",
    "requiredAccessLevel": "calendar",
}


_RPC_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    410: "ABORTED",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """An error answer in Google's JSON shape."""

    def __init__(self, status: int, reason: str | None = None, message: str | None = None) -> None:
        self.status = status
        self.reason = reason or _DEFAULT_REASON.get(status, "backendError")
        self.message = message or _MESSAGES.get(self.reason, "Error")
        super().__init__(f"{status} {self.reason}: {self.message}")

    def body(self, fmt: str = "legacy") -> dict[str, Any]:
        """Google's error JSON: ``legacy`` (``errors[].reason``) or ``rpc`` (AIP-193)."""
        domain = _DOMAINS.get(self.reason, "global")
        if fmt == "rpc":
            info = {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": self.reason,
                "domain": "calendar-json.googleapis.com" if domain == "global" else domain,
            }
            return {
                "error": {
                    "code": self.status,
                    "message": self.message,
                    "status": _RPC_STATUS.get(self.status, "UNKNOWN"),
                    "details": [info],
                }
            }
        detail = {"domain": domain, "reason": self.reason, "message": self.message}
        return {"error": {"errors": [detail], "code": self.status, "message": self.message}}
