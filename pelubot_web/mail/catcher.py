"""A local mail catcher: an SMTP server (aiosmtpd) that keeps every message, plus a page.

``python -m pelubot_web.mail.catcher --smtp-port 8025 --http-port 8026`` is what
``make run`` starts (``PELUBOT_SMTP_URL=smtp://127.0.0.1:8025``); open
http://127.0.0.1:8026/ to read what PeluBot sent. Tests use ``run_catcher()`` in their
own process (port 0: a free port is picked). Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import html
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

__all__ = ["CaughtMail", "MailCatcher", "run_catcher"]


@dataclass
class CaughtMail:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed: EmailMessage = message_from_bytes(self.raw, policy=policy.default)  # type: ignore[assignment]
        return parsed

    def summary(self) -> dict[str, Any]:
        msg = self.message
        return {
            "from": self.sender,
            "to": self.recipients,
            "subject": msg["Subject"],
            "date": msg["Date"],
        }


@dataclass
class MailCatcher:
    """The handler aiosmtpd calls; keeps messages in memory (thread-safe)."""

    messages: list[CaughtMail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Reply code to answer DATA with instead of accepting (tests inject failures).
    fail_with: str | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.fail_with:
            return self.fail_with
        content = envelope.original_content or b""
        with self.lock:
            self.messages.append(
                CaughtMail(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(content))
            )
        return "250 Message accepted for delivery"

    def received(self) -> list[CaughtMail]:
        with self.lock:
            return list(self.messages)

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


class _Controller(Controller):
    """Binds port 0 when asked and reports the port the OS picked."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        super()._trigger_server()


@dataclass
class RunningCatcher:
    catcher: MailCatcher
    smtp_port: int
    http_url: str

    @property
    def smtp_url(self) -> str:
        return f"smtp://127.0.0.1:{self.smtp_port}"


def _page(catcher: MailCatcher) -> bytes:
    rows = []
    for index, mail in enumerate(reversed(catcher.received())):
        info = mail.summary()
        body = mail.message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        rows.append(
            f"<article><h2>{html.escape(str(info['subject']))}</h2>"
            f"<p>#{len(catcher.messages) - index} · {html.escape(', '.join(info['to']))}"
            f" · {html.escape(str(info['date'] or ''))}</p><pre>{html.escape(text)}</pre></article>"
        )
    content = "".join(rows) or "<p>No mail yet.</p>"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>PeluBot mail catcher</title>"
        "<meta http-equiv='refresh' content='5'></head><body style='font-family:sans-serif'>"
        f"<h1>Mail sent by PeluBot</h1>{content}</body></html>"
    ).encode()


def _http_handler(catcher: MailCatcher) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/messages.json":
                body = json.dumps([m.summary() for m in catcher.received()]).encode()
                self._send(200, "application/json", body)
            elif self.path == "/":
                self._send(200, "text/html; charset=utf-8", _page(catcher))
            else:
                self._send(404, "text/plain", b"not found")

        def do_POST(self) -> None:
            if self.path != "/reset":
                self._send(404, "text/plain", b"not found")
                return
            catcher.clear()
            self._send(204, "text/plain", b"")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def run_catcher(
    host: str = "127.0.0.1", smtp_port: int = 0, http_port: int = 0
) -> Iterator[RunningCatcher]:
    """Start the SMTP server and the page in background threads; stop them on exit."""
    catcher = MailCatcher()
    controller = _Controller(catcher, hostname=host, port=smtp_port)
    controller.start()
    web = ThreadingHTTPServer((host, http_port), _http_handler(catcher))
    # A short poll interval: shutdown() waits for it (0.5 s by default).
    thread = threading.Thread(
        target=web.serve_forever, args=(0.05,), name="mail-catcher-http", daemon=True
    )
    thread.start()
    try:
        yield RunningCatcher(catcher, controller.port, f"http://{host}:{web.server_port}")
    finally:
        web.shutdown()
        web.server_close()
        controller.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="PeluBot's local mail catcher")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=8025)
    parser.add_argument("--http-port", type=int, default=8026)
    args = parser.parse_args(argv)
    with run_catcher(args.host, args.smtp_port, args.http_port) as running:
        print(f"Mail catcher: SMTP {running.smtp_url}, messages at {running.http_url}/", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
