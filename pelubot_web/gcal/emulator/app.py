"""WSGI front of the emulator: Calendar v3 paths, fault injection, control API.

API paths are the ones google-api-python-client builds from the discovery
document when ``api_endpoint`` is ``<emulator>/calendar/v3/``. Routing works
on the raw request path so that a calendar id with an encoded ``/`` stays one
path segment.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from werkzeug.wrappers import Request, Response

from ..transport import EMULATOR_SUBJECT_HEADER
from .api_errors import ApiError
from .faults import CallLog, Fault, FaultBook
from .query import NOT_WITH_SYNC_TOKEN, ListQuery
from .store import CalendarStore
from .times import parse_rfc3339

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["EmulatorApp", "make_app"]

log = logging.getLogger(__name__)

API_PREFIX = ["calendar", "v3"]
CONTROL_PREFIX = "_emulator"
_EVENT_METHODS = {
    ("GET", False): "list",
    ("POST", False): "insert",
    ("GET", True): "get",
    ("PUT", True): "update",
    ("PATCH", True): "patch",
    ("DELETE", True): "delete",
}


def make_app(store: CalendarStore | None = None) -> EmulatorApp:
    """A fresh emulator with empty calendars, no faults and an empty call log."""
    return EmulatorApp(store or CalendarStore())


def _json(payload: object, status: int = 200) -> Response:
    return Response(
        json.dumps(payload), status=status, content_type="application/json; charset=UTF-8"
    )


def _error(error: ApiError, fmt: str = "legacy", retry_after: float | None = None) -> Response:
    response = _json(error.body(fmt), error.status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(int(retry_after))
    return response


def _close_connection(environ: WSGIEnvironment) -> None:
    """Hang up on the client, as a proxy or a flaky network does."""
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _truncated(response: Response, environ: WSGIEnvironment) -> Response:
    """The same answer, announcing its full length but sending only half of it."""
    body = response.get_data()
    cut = Response(status=response.status_code, headers=dict(response.headers))
    cut.headers["Content-Length"] = str(len(body))

    def half_then_hang_up() -> Iterator[bytes]:
        yield body[: len(body) // 2]
        _close_connection(environ)

    cut.response = half_then_hang_up()
    return cut


def _segments(environ: WSGIEnvironment) -> list[str]:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return [unquote(part) for part in urlsplit(raw).path.split("/")[1:]]
    return str(environ.get("PATH_INFO", "")).split("/")[1:]


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        raise ApiError(400, "parseError") from None
    if not isinstance(body, dict):
        raise ApiError(400, "badRequest", "The request body must be a JSON object.")
    return body


def _flag(value: str | None) -> bool:
    return (value or "").lower() == "true"


def _list_query(args: Mapping[str, str], private: Iterable[str]) -> ListQuery:
    properties = []
    for item in private:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ApiError(400, "invalid", "Invalid value for: privateExtendedProperty")
        properties.append((name, value))
    try:
        max_results = int(args.get("maxResults", "250"))
    except ValueError:
        raise ApiError(400, "invalid", "Invalid value for: maxResults") from None
    return ListQuery(
        time_min=parse_rfc3339(args["timeMin"], "timeMin") if args.get("timeMin") else None,
        time_max=parse_rfc3339(args["timeMax"], "timeMax") if args.get("timeMax") else None,
        show_deleted=_flag(args.get("showDeleted")),
        sync_token=args.get("syncToken") or None,
        page_token=args.get("pageToken") or None,
        max_results=max_results,
        order_by=args.get("orderBy") or None,
        private_properties=tuple(properties),
        single_events=_flag(args.get("singleEvents")),
        other_filters=tuple(name for name in NOT_WITH_SYNC_TOKEN if args.get(name)),
    )


class EmulatorApp:
    """The emulator as a WSGI callable; ``store``, ``faults`` and ``calls`` are public
    so in-process tests can look inside without going through HTTP."""

    def __init__(
        self,
        store: CalendarStore,
        faults: FaultBook | None = None,
        calls: CallLog | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.faults = faults or FaultBook()
        self.calls = calls or CallLog()
        self._sleep = sleep
        # "Token expired" mode: every API call answers 401 until switched off.
        self.auth_expired = False

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        segments = _segments(environ)
        try:
            if segments[:1] == [CONTROL_PREFIX]:
                response = self._control(request, segments[1:])
            elif segments[:2] == API_PREFIX:
                response = self._api(request, segments[2:], environ)
            else:
                response = _error(ApiError(404, "notFound"))
        except Exception:
            log.exception("emulator bug while serving %s %s", request.method, request.path)
            response = _error(ApiError(500, "backendError"))
        return response(environ, start_response)

    # -- Calendar API -----------------------------------------------------------

    def _api(self, request: Request, path: list[str], environ: WSGIEnvironment) -> Response:
        if self.auth_expired:
            return _error(ApiError(401, "authError"))
        subject = request.headers.get(EMULATOR_SUBJECT_HEADER)
        if len(path) == 2 and path[0] == "calendars" and request.method == "GET":
            try:
                info = self.store.calendar(path[1], subject).to_json()
            except ApiError as error:
                return _error(error)
            return _json({"kind": "calendar#calendar", **info})
        try:
            call = _route(request, path)
        except ApiError as error:
            return _error(error)
        if call.calendar_id is not None and not self.store.shared_with(call.calendar_id, subject):
            self.calls.record(call.method, call.calendar_id, call.event_id, 404)
            return _error(ApiError(404, "notFound"))
        try:
            body = _json_body(request) if call.method in _WITH_BODY else {}
        except ApiError as error:
            self.calls.record(call.method, call.calendar_id, call.event_id, error.status)
            return _error(error)
        ids = [call.calendar_id] if call.calendar_id is not None else _freebusy_ids(body)
        fault = self.faults.draw(call.method, ids)
        if fault is not None:
            return self._faulty(call, fault, request, body, environ)
        response = self._answer(call, request, body)
        self.calls.record(call.method, call.calendar_id, call.event_id, response.status_code)
        return response

    def _answer(self, call: _Call, request: Request, body: dict[str, Any]) -> Response:
        try:
            return self._run(
                call.method, request, call.calendar_id or "", call.event_id or "", body
            )
        except ApiError as error:
            return _error(error)

    def _faulty(
        self,
        call: _Call,
        fault: Fault,
        request: Request,
        body: dict[str, Any],
        environ: WSGIEnvironment,
    ) -> Response:
        """Serve a call that drew a fault: slow, dropped, an error, or a cut-off answer."""
        if fault.latency_ms:
            self._sleep(fault.latency_ms / 1000)
        if fault.drop:
            self.calls.record(call.method, call.calendar_id, call.event_id, 0, fault_id=fault.id)
            _close_connection(environ)
            return Response(status=204)
        if fault.status is not None:
            injected = ApiError(fault.status, fault.reason, fault.message)
            self.calls.record(
                call.method, call.calendar_id, call.event_id, injected.status, fault_id=fault.id
            )
            return _error(injected, fault.format, fault.retry_after)
        response = self._answer(call, request, body)
        self.calls.record(
            call.method, call.calendar_id, call.event_id, response.status_code, fault_id=fault.id
        )
        return _truncated(response, environ) if fault.truncate else response

    def _run(
        self,
        method: str,
        request: Request,
        calendar_id: str,
        event_id: str,
        body: dict[str, Any],
    ) -> Response:
        store = self.store
        if method == "list":
            query = _list_query(request.args, request.args.getlist("privateExtendedProperty"))
            return _json(store.list_events(calendar_id, query))
        if method == "insert":
            return _json(store.insert(calendar_id, body))
        if method == "get":
            return _json(store.get(calendar_id, event_id))
        if method == "update":
            return _json(store.update(calendar_id, event_id, body))
        if method == "patch":
            return _json(store.patch(calendar_id, event_id, body))
        if method == "delete":
            store.delete(calendar_id, event_id)
            return Response(status=204)
        return _json(store.free_busy(body))

    # -- control API --------------------------------------------------------------

    def _control(self, request: Request, path: list[str]) -> Response:
        if path[:1] == ["calendars"]:
            return self._control_calendars(request, path[1:])
        handler = self._control_routes().get((request.method, "/".join(path)))
        if handler is None:
            return _error(ApiError(404, "notFound"))
        try:
            return handler(request)
        except ApiError as error:
            return _error(error)
        except ValueError as exc:
            return _error(ApiError(400, "invalid", str(exc)))

    def _control_routes(self) -> dict[tuple[str, str], Callable[[Request], Response]]:
        return {
            ("POST", "reset"): self._reset,
            ("GET", "health"): lambda _r: _json({"status": "ok"}),
            ("GET", "events"): lambda r: _json(
                {"items": self.store.live_events(r.args.get("calendar_id") or None)}
            ),
            ("GET", "faults"): lambda _r: _json({"items": self.faults.to_json()}),
            ("POST", "faults"): lambda r: _json(self.faults.add(_json_body(r)).to_json(), 201),
            ("DELETE", "faults"): self._clear_faults,
            ("POST", "invalidate-sync-tokens"): self._invalidate_sync_tokens,
            ("GET", "stats"): lambda _r: _json(self.calls.stats()),
            ("GET", "calls"): lambda _r: _json({"items": self.calls.recent()}),
            ("POST", "purge-cancelled"): lambda _r: _json({"purged": self.store.purge_cancelled()}),
            ("POST", "auth"): self._set_auth,
        }

    def _reset(self, _request: Request) -> Response:
        self.store.reset()
        self.faults.clear()
        self.calls.reset()
        return _json({"status": "ok"})

    def _clear_faults(self, _request: Request) -> Response:
        self.faults.clear()
        return Response(status=204)

    def _invalidate_sync_tokens(self, _request: Request) -> Response:
        self.store.invalidate_sync_tokens()
        return _json({"status": "ok"})

    def _set_auth(self, request: Request) -> Response:
        self.auth_expired = bool(_json_body(request).get("expired"))
        return _json({"expired": self.auth_expired})

    def _control_calendars(self, request: Request, rest: list[str]) -> Response:
        """``POST /_emulator/calendars`` {id, timeZone?, access?, sharedWith?}; list;
        ``DELETE .../<id>``."""
        try:
            if request.method == "POST" and not rest:
                return _register(self.store, request)
        except ApiError as error:
            return _error(error)
        if request.method == "GET" and not rest:
            return _json({"items": [info.to_json() for info in self.store.calendars()]})
        if request.method == "DELETE" and len(rest) == 1:
            self.store.unregister_calendar(rest[0])
            return Response(status=204)
        return _error(ApiError(404, "notFound"))


def _register(store: CalendarStore, request: Request) -> Response:
    body = _json_body(request)
    calendar_id = body.get("id")
    time_zone = body.get("timeZone") or "UTC"
    access = body.get("access") or "owner"
    shared_with = body.get("sharedWith") or []
    if not isinstance(calendar_id, str) or not calendar_id:
        raise ApiError(400, "required", "Missing calendar id.")
    if not isinstance(time_zone, str) or not isinstance(access, str):
        raise ApiError(400, "invalid", "timeZone and access must be strings.")
    if not isinstance(shared_with, list) or not all(isinstance(u, str) for u in shared_with):
        raise ApiError(400, "invalid", "sharedWith must be a list of user addresses.")
    info = store.register_calendar(
        calendar_id, time_zone=time_zone, access=access, shared_with=tuple(shared_with)
    )
    return _json(info.to_json(), 201)


@dataclass(frozen=True)
class _Call:
    method: str
    calendar_id: str | None = None
    event_id: str | None = None


_WITH_BODY = frozenset({"insert", "update", "patch", "freebusy"})


def _route(request: Request, path: list[str]) -> _Call:
    """Which Calendar API method a request is; ApiError 404/405 when none."""
    if path == ["freeBusy"] and request.method == "POST":
        return _Call("freebusy")
    if len(path) in (3, 4) and path[0] == "calendars" and path[2] == "events":
        event_id = path[3] if len(path) == 4 else None
        method = _EVENT_METHODS.get((request.method, event_id is not None))
        if method is None:
            raise ApiError(405, "httpMethodNotAllowed")
        return _Call(method, path[1], event_id)
    raise ApiError(404, "notFound")


def _freebusy_ids(body: Mapping[str, Any]) -> list[str]:
    items = body.get("items")
    if not isinstance(items, list):
        return []
    return [str(item["id"]) for item in items if isinstance(item, dict) and "id" in item]
