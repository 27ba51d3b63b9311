"""Domain errors: values the caller can act on, mapped to HTTP once in each blueprint."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose. ``code`` is stable for clients."""

    code = "domain_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    code = "not_found"


class InvalidInput(DomainError):
    code = "invalid_input"


class Conflict(DomainError):
    code = "conflict"
