"""What a deployment check reports: one finding per line, with a severity."""

from __future__ import annotations

from dataclasses import dataclass

OK = "ok"
WARNING = "warning"
ERROR = "error"


@dataclass(frozen=True)
class Finding:
    severity: str
    check: str
    message: str

    def line(self) -> str:
        return f"{self.severity.upper():<7} {self.check:<12} {self.message}"


def ok(check: str, message: str) -> Finding:
    return Finding(OK, check, message)


def warning(check: str, message: str) -> Finding:
    return Finding(WARNING, check, message)


def error(check: str, message: str) -> Finding:
    return Finding(ERROR, check, message)
