"""Rate limits at the HTTP edge (the limiters themselves are `bergfried.ratelimit`).

- The OAuth endpoints that authenticate clients (`/oauth/v2/token`, `/introspect`, `/revoke`,
  `/device_authorization`): a POST from a client IP whose bucket is empty is answered 429 with
  `Retry-After` and RFC 6749 §5.2 JSON `invalid_request` before anything is read or written
  (RFC 6749 names no rate-limit code; `slow_down` belongs to device-code polling, RFC 8628 §3.5;
  AWS's OAuth sign-in service answers the same). Every failed answer (4xx) spends a token, except
  the device poll's `authorization_pending` and `slow_down`, which are the protocol working.
  Successes spend nothing: a resource server introspecting from one IP is never limited.
- The client IP is the ASGI peer. Behind a reverse proxy that is the proxy, unless uvicorn is
  told to trust its `X-Forwarded-For` (`FORWARDED_ALLOW_IPS`, default 127.0.0.1): then uvicorn
  puts the real client there.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bergfried.errors import InvalidRequest
from bergfried.logs import get
from bergfried.web import errors

CLIENT_ENDPOINTS = frozenset({"/oauth/v2/token", "/oauth/v2/introspect", "/oauth/v2/revoke",
                              "/oauth/v2/device_authorization"})
_PROTOCOL_WAIT = re.compile(rb'"error"\s*:\s*"(?:authorization_pending|slow_down)"')
log = get("bergfried.ratelimit")


def client_ip(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


def client_ip_of(request: Request) -> str | None:
    return client_ip(request.scope)


def too_many(retry_after: int) -> Response:
    return errors.oauth_error(InvalidRequest(f"Too many requests; retry after {retry_after} seconds",
                                             status=429, headers={"retry-after": str(retry_after)}))


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ip = client_ip(scope)
        if (scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in CLIENT_ENDPOINTS
                or ip is None):
            await self.app(scope, receive, send)
            return
        limiter = scope["app"].state.services.limits.token_per_ip
        wait = limiter.check(ip)
        if wait is not None:
            log.warning("rate_limited", path=scope["path"], client_ip=ip, retry_after=wait)
            await too_many(wait)(scope, receive, send)
            return
        failed = False

        async def watching(message: Message) -> None:
            nonlocal failed
            if message["type"] == "http.response.start":
                failed = 400 <= message["status"] < 500
            elif failed and message["type"] == "http.response.body" and _PROTOCOL_WAIT.search(message.get("body", b"")):
                failed = False
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            if failed:
                limiter.spend(ip)
