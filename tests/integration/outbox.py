"""Real receivers for reminders in tests: an SMTP server (aiosmtpd, on a free port) that
keeps every message it accepts, and an HTTP SMS provider that keeps every request and
honours Idempotency-Key as the generic provider contract asks (docs/reminders.md), and
Twilio's Messages API as its client speaks to it.

Each can run a hook at the moment that matters to exactly-once: the SMTP server after it
has taken a message and before it answers 250 (the sender then dies "between the
provider's acceptance and the event's commit"), the SMS provider likewise before its reply.
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

from .workers import free_port


@dataclass
class Received:
    envelope_from: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class SmtpRecorder:
    """The handler: `hook(received)` runs after a message is kept, before the reply; its
    return value, if any, is the reply ("451 ..." to refuse after all)."""

    received: list[Received] = field(default_factory=list)
    hook: Callable[[Received], str | None] | None = None
    # Runs when a recipient is given, before DATA: a sender killed here handed nothing over.
    rcpt_hook: Callable[[], object] | None = None
    reply: str = "250 2.0.0 Ok: queued as {n}"
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if self.rcpt_hook is not None:
            self.rcpt_hook()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        got = Received(envelope.mail_from, list(envelope.rcpt_tos), message)  # type: ignore[arg-type]
        with self.lock:
            self.received.append(got)
            n = len(self.received)
        if self.hook is not None:
            answer = self.hook(got)
            if answer:
                return answer
        return self.reply.format(n=f"Q{n:04d}")

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(r.message["Message-ID"]) for r in self.received]


class SmtpServer:
    def __init__(self, recorder: SmtpRecorder | None = None) -> None:
        self.recorder = recorder or SmtpRecorder()
        self.port = free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


class _JsonHandler(BaseHTTPRequestHandler):
    def _answer(self, status: int, body: dict[str, Any]) -> None:
        reply = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


class _HttpServer:
    """A threading HTTP server on a free port, serving while in a `with` block."""

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class SmsRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    repeat: bool  # the key was seen before: nothing new was sent
    accepted: bool  # answered 200


class SmsProvider(_HttpServer):
    """A generic HTTP SMS provider: POST JSON, answer {"id": ...}; a request with a key it
    has seen answers the first id again and sends nothing."""

    def __init__(self, hook: Callable[[SmsRequest], None] | None = None) -> None:
        self.requests: list[SmsRequest] = []
        self.ids: dict[str, str] = {}
        self.hook = hook
        self.status = 200
        provider = self

        class Handler(_JsonHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                key = self.headers.get("Idempotency-Key", "")
                repeat = key in provider.ids
                if not repeat and provider.status == 200:
                    provider.ids[key] = f"sms-{len(provider.ids) + 1}"
                got = SmsRequest(
                    self.path, dict(self.headers), body, repeat, provider.status == 200
                )
                provider.requests.append(got)
                if provider.hook is not None:
                    provider.hook(got)
                self._answer(provider.status, {"id": provider.ids.get(key, "")})

        self._serve(Handler)

    @property
    def url(self) -> str:
        return f"{self.origin}/messages"

    def text_messages(self) -> list[SmsRequest]:
        """The requests that sent a message: not the repeats of a key, not the refused."""
        return [r for r in self.requests if not r.repeat and r.accepted]


def wait_for(condition: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    """Poll `condition` until it is truthy, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class TwilioApi(_HttpServer):
    """Twilio's Messages resource as its client speaks to it (form-encoded POST, basic auth,
    JSON answers, newest first in a list filtered by To), on a free port: no idempotency key,
    so a sender that lost the answer must look the message up.

    `hook(message)` runs after a message is kept and before the answer; `drop` closes the
    connection instead of answering ("kept", the message stays; "lost", it is thrown away
    first: the request never arrived as far as anyone can tell); `refuse` answers an error
    as Twilio does, (HTTP status, Twilio code)."""

    ACCOUNT = "AC" + "0" * 32
    TOKEN = "secret-token"

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        """`now`: Twilio's clock, which dates each message (the tests' clock, in process)."""
        self.now = now or (lambda: datetime.now(UTC))
        self.messages: list[dict[str, Any]] = []
        self.lists = 0
        self.hook: Callable[[dict[str, Any]], None] | None = None
        self.drop: str | None = None
        self.refuse: tuple[int, int] | None = None
        self.auth: list[str] = []
        api = self
        path = f"/2010-04-01/Accounts/{self.ACCOUNT}/Messages.json"

        class Handler(_JsonHandler):
            def do_POST(self) -> None:
                api.auth.append(self.headers.get("Authorization", ""))
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if self.path != path:
                    return self._answer(404, {"code": 20404, "message": "Not found"})
                if api.refuse is not None:
                    status, code = api.refuse
                    return self._answer(
                        status, {"code": code, "message": "Refused", "status": status}
                    )
                message = {
                    "sid": f"SM{len(api.messages) + 1:032d}",
                    "account_sid": api.ACCOUNT,
                    "to": form.get("To"),
                    "from": form.get("From"),
                    "messaging_service_sid": form.get("MessagingServiceSid"),
                    "body": form.get("Body"),
                    "direction": "outbound-api",
                    "status": "queued",
                    "date_created": format_datetime(api.now().astimezone(UTC), usegmt=True),
                    "date_sent": None,
                }
                api.messages.append(message)
                if api.hook is not None:
                    api.hook(message)
                if api.drop is not None:
                    if api.drop == "lost":
                        api.messages.remove(message)
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return None
                return self._answer(201, message)

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != path:
                    return self._answer(404, {"code": 20404, "message": "Not found"})
                api.lists += 1
                to = parse_qs(url.query).get("To", [None])[0]
                found = [m for m in reversed(api.messages) if to is None or m["to"] == to]
                return self._answer(
                    200,
                    {"messages": found, "next_page_uri": None, "page": 0, "page_size": 50},
                )

        self._serve(Handler)

    @property
    def url(self) -> str:
        return self.origin

    def config(self, sender: str = "+33700000000") -> dict[str, str]:
        return {
            "TWILIO_ACCOUNT_SID": self.ACCOUNT,
            "TWILIO_AUTH_TOKEN": self.TOKEN,
            "TWILIO_API_URL": self.url,
            "SMS_SENDER": sender,
        }
