"""A live local back-channel logout receiver: a real HTTP server on 127.0.0.1 in a thread that
records every `logout_token` POSTed to it and answers with the statuses a test scripts."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass
class Receiver:
    url: str
    tokens: list[str] = field(default_factory=list)  # logout tokens of requests answered 2xx
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (path, content type, body)
    script: list[int | float] = field(default_factory=list)  # next answers: a status, or seconds to stall
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def receiving() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
            with state.lock:
                state.requests.append((self.path, self.headers.get("content-type", ""), body))
                answer = state.script.pop(0) if state.script else 200
            if isinstance(answer, float):
                time.sleep(answer)
                answer = 200
            if 200 <= answer < 300:
                with state.lock:
                    state.tokens.extend(parse_qs(body).get("logout_token", []))
            self.send_response(answer)
            if answer in (301, 302, 307, 308):
                self.send_header("location", "/elsewhere")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/backchannel"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
