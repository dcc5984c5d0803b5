"""ZITADEL's health paths: `/debug/healthz` (the process answers) and `/debug/ready` (it can
serve: the database answers), plus Prometheus `/metrics`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bergfried.web import errors


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def ready(request: Request) -> Response:
    services = getattr(request.app.state, "services", None)
    if services is None or not await services.store.ping():
        return errors.json_response(errors.status_body(14, "not ready"), 503, {"retry-after": "5"})
    return PlainTextResponse("ok")


async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics
    return Response(registry.render(), media_type=registry.content_type)
