"""What the security headers promise, checked where they matter: in a real browser."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.browser.conftest import free_port


def _framing_page(target: str) -> type[BaseHTTPRequestHandler]:
    body = f'<!doctype html><title>attacker</title><iframe id="f" src="{target}"></iframe>'.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.mark.rule("CSP Level 2 frame-ancestors; RFC 7034 X-Frame-Options: pages cannot be framed (clickjacking)")
def test_another_origin_cannot_frame_bergfried(live_server: Any, browser: Any) -> None:
    port = free_port()
    attacker = ThreadingHTTPServer(("127.0.0.1", port), _framing_page(live_server.url + "/debug/healthz"))
    thread = threading.Thread(target=attacker.serve_forever, daemon=True)
    thread.start()
    try:
        page = browser.new_page()
        blocked: list[str] = []
        page.on("console", lambda message: blocked.append(message.text))
        page.goto(f"http://localhost:{port}/")
        page.wait_for_timeout(500)
        frame = page.frames[1]
        # A blocked frame is replaced by chromium's error page: the served "ok" never renders.
        assert frame.url.startswith("chrome-error://"), frame.url
        assert frame.evaluate("document.body ? document.body.innerText.trim() : ''") != "ok"
        assert any("frame-ancestors" in text or "refused" in text.lower() for text in blocked)
    finally:
        attacker.shutdown()


def test_bergfried_pages_load_in_the_browser_with_strict_headers(live_server: Any, browser: Any) -> None:
    page = browser.new_page()
    response = page.goto(live_server.url + "/debug/healthz")
    assert response is not None
    assert response.status == 200
    assert page.evaluate("document.body.innerText.trim()") == "ok"
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == "frame-ancestors 'none'"
    assert len(headers["x-request-id"]) >= 8
