"""A small client for the emulator's ``/_emulator/`` control API (tests, benchmarks)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

__all__ = ["EmulatorControl"]


class EmulatorControl:
    """Reset the emulator, inject faults and read what it saw."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def reset(self) -> None:
        self._call("POST", "reset")

    def health(self) -> bool:
        return bool(self._call("GET", "health").get("status") == "ok")

    def events(self, calendar_id: str | None = None) -> list[dict[str, Any]]:
        query = "?" + urllib.parse.urlencode({"calendar_id": calendar_id}) if calendar_id else ""
        items: list[dict[str, Any]] = self._call("GET", "events" + query)["items"]
        return items

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        """E.g. ``add_fault(status=503, count=2)``; see ``faults.parse_fault``."""
        return self._call("POST", "faults", spec)

    def faults(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self._call("GET", "faults")["items"]
        return items

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def invalidate_sync_tokens(self) -> None:
        self._call("POST", "invalidate-sync-tokens")

    def register_calendar(
        self,
        calendar_id: str,
        *,
        time_zone: str = "UTC",
        access: str = "owner",
        shared_with: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Make a calendar exist, shared with the service account or, with
        ``shared_with``, only with those delegated users; others answer 404."""
        body = {"id": calendar_id, "timeZone": time_zone, "access": access}
        return self._call("POST", "calendars", {**body, "sharedWith": list(shared_with)})

    def unregister_calendar(self, calendar_id: str) -> None:
        """Unshare a calendar: its events stay, every call on it answers 404."""
        self._call("DELETE", "calendars/" + urllib.parse.quote(calendar_id, safe=""))

    def calendars(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self._call("GET", "calendars")["items"]
        return items

    def purge_cancelled(self) -> int:
        """Forget deleted events (their ids stay taken forever, as on Google)."""
        return int(self._call("POST", "purge-cancelled")["purged"])

    def expire_auth(self, expired: bool = True) -> None:
        """Token-expired mode: every API call answers 401 until switched off."""
        self._call("POST", "auth", {"expired": expired})

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "stats")

    def calls(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self._call("GET", "calls")["items"]
        return items

    def _call(self, method: str, path: str, payload: object = None) -> dict[str, Any]:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            f"{self.base_url}/_emulator/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            body = response.read()
        result: dict[str, Any] = json.loads(body) if body else {}
        return result
