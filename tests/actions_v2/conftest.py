"""A live HTTP server playing the targets: it checks the `ZITADEL-Signature` of every call with
the signing key the test registered for that path, records the payloads, and answers as the
path says (`/call/<name>` a JSON body the test set, `/slow` late, `/status/<code>`, `/garbage`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.api.conftest import world  # noqa: F401  (the API tests' fixture, used by name)
from tests.apply.conftest import started  # noqa: F401  (the apply tests' fixture, used by name)


@dataclass
class Received:
    path: str
    body: bytes
    signature: str
    signed_ok: bool

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class TargetServer:
    port: int
    keys: dict[str, str] = field(default_factory=dict)  # path → signing key
    answers: dict[str, bytes] = field(default_factory=dict)  # path → 2xx body
    received: list[Received] = field(default_factory=list)
    delay: float = 1.0  # how long /slow sleeps
    arrived: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, path: str, body: Any) -> None:
        self.answers[path] = body if isinstance(body, bytes) else json.dumps(body).encode()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.received)


def _signed(header: str, body: bytes, key: str) -> bool:
    """The receiver's check written out from spec/actions.md §3.3, independent of signing.py:
    `t=<unix>,v1=<hex HMAC-SHA256(key, "<t>." + body)>`, t within 300 s."""
    match = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", header)
    if not key or match is None or abs(time.time() - int(match.group(1))) > 300:
        return False
    expected = hmac.new(key.encode(), match.group(1).encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group(2))


def _handler(server: TargetServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            header = self.headers.get("zitadel-signature", "")
            ok = _signed(header, body, server.keys.get(self.path, ""))
            server.received.append(Received(self.path, body, header, ok))
            server.arrived.set()
            if self.path == "/slow":
                time.sleep(server.delay)
            if self.path.startswith("/status/"):
                self._send(int(self.path.rsplit("/", 1)[1]), b"{}")
            elif self.path == "/garbage":
                self._send(200, b"<html>not json")
            else:
                self._send(200, server.answers.get(self.path, b""))

        def _send(self, status: int, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the caller gave up (timeout)
                pass

    return Handler


@pytest.fixture
def target_server() -> Iterator[TargetServer]:
    holder = TargetServer(port=0)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(holder))
    httpd.daemon_threads = True
    holder.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder
    finally:
        httpd.shutdown()
        httpd.server_close()
