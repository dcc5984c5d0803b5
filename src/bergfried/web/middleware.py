"""One pure-ASGI middleware for every response: request id, security headers, metrics, access
log, and the last line of defence that turns an unexpected exception into a JSON 500 (or a 503
when the database is down) instead of a stack trace."""

from __future__ import annotations

import re
import secrets
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bergfried.errors import StoreUnavailable
from bergfried.logs import get
from bergfried.web import errors
from bergfried.web.metrics import Metrics

_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # whole value: `$` would admit a trailing "\n"
log = get("bergfried.access")


def security_headers(https: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"content-security-policy", b"frame-ancestors 'none'"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if https:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


def _reason(exc: StoreUnavailable) -> str:
    """The driver's first line (`database or disk is full`, `the database system is shutting down`),
    for the operator; never the statement or its parameters."""
    cause = exc.__cause__
    orig = getattr(cause, "orig", None) or cause
    lines = str(orig).strip().splitlines() if orig is not None else []
    return lines[0][:200] if lines else type(orig).__name__


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class RequestMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics, https: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.headers = security_headers(https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = incoming if _INCOMING_ID.fullmatch(incoming) else secrets.token_hex(8)
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        extra = [*self.headers, (b"x-request-id", request_id.encode())]
        status = 500
        started = False
        begin = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            if isinstance(exc, StoreUnavailable):
                log.warning("database_unavailable", path=scope["path"], reason=_reason(exc))
                response = errors.unavailable(request_id)
            else:
                log.exception("unhandled_error", path=scope["path"])
                response = errors.internal_error(request_id)
            if started:  # too late for a clean answer; the connection is cut by the server
                raise
            await response(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - begin
            route = _route_of(scope)
            self.metrics.observe(scope["method"], route, status, elapsed)
            log.info("request", method=scope["method"], path=scope["path"], route=route, status=status,
                     duration_ms=round(elapsed * 1000, 2))
