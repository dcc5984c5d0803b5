"""Rate limits at the HTTP edge (the limiters themselves are `bergfried.ratelimit`).

- The OAuth endpoints that authenticate clients (`/oauth/v2/token`, `/introspect`, `/revoke`,
  `/device_authorization`) count POSTs per client IP before anything is read or written. Over
  the limit: 429, `Retry-After`, and RFC 6749 §5.2 JSON with `invalid_request` (RFC 6749 names
  no rate-limit code; `slow_down` belongs to device-code polling, RFC 8628 §3.5), as AWS's
  OAuth sign-in service answers.
- The client IP is the ASGI peer. Behind a reverse proxy that is the proxy, unless uvicorn is
  told to trust its `X-Forwarded-For` (`FORWARDED_ALLOW_IPS`, default 127.0.0.1): then uvicorn
  puts the real client there.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bergfried.errors import InvalidRequest
from bergfried.logs import get
from bergfried.services import Services
from bergfried.web import errors

CLIENT_ENDPOINTS = frozenset({"/oauth/v2/token", "/oauth/v2/introspect", "/oauth/v2/revoke",
                              "/oauth/v2/device_authorization"})
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
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in CLIENT_ENDPOINTS:
            services: Services = scope["app"].state.services
            ip = client_ip(scope)
            wait = services.limits.token_per_ip.hit(ip) if ip is not None else None
            if wait is not None:
                log.warning("rate_limited", path=scope["path"], client_ip=ip, retry_after=wait)
                await too_many(wait)(scope, receive, send)
                return
        await self.app(scope, receive, send)
