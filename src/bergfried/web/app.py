"""The Starlette app factory: `create_app(settings)` for one process, `worker_app()` for uvicorn
workers that rebuild their settings from what the parent resolved."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bergfried import logs, services
from bergfried.actions.v2 import client as action_targets
from bergfried.errors import DomainError
from bergfried.login.routes import routes as login_routes
from bergfried.oidc import backchannel_delivery
from bergfried.settings import Settings, load_worker_settings
from bergfried.store import purge
from bergfried.web import api, device, discovery, errors, health, oidc, oidc_resources
from bergfried.web.metrics import Metrics
from bergfried.web.middleware import RequestMiddleware
from bergfried.web.ratelimit import RateLimitMiddleware

ASYNC_TARGETS_GRACE = 5.0  # seconds restAsync target calls get to finish at shutdown


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return errors.method_not_allowed((exc.headers or {}).get("Allow"))
    if exc.status_code == 404:
        return errors.not_found()
    return errors.http_error(exc.status_code, exc.detail, dict(exc.headers or {}))


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return errors.domain_error(exc)


def routes() -> list[Route]:
    return [
        Route("/debug/healthz", health.healthz, methods=["GET", "HEAD"]),
        Route("/debug/ready", health.ready, methods=["GET", "HEAD"]),
        Route("/metrics", health.metrics, methods=["GET"]),
        *discovery.routes(),
        *oidc.routes(),
        *device.routes(),
        *oidc_resources.routes(),
        *login_routes(),
        *api.routes(),
    ]


def create_app(settings: Settings, *, prebuilt: services.Services | None = None) -> Starlette:
    """`prebuilt` lets a caller (tests, the CLI) share its Services; otherwise the lifespan builds
    them and closes them at shutdown."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        built = prebuilt or services.build(settings)
        app.state.services = built
        workers = []
        if settings.outbox_worker:
            workers.append(asyncio.create_task(backchannel_delivery.run(built, interval=settings.outbox_poll_interval)))
        if settings.purge_interval:
            workers.append(asyncio.create_task(purge.run(built.store, interval=settings.purge_interval)))
        try:
            yield {}
        finally:
            for worker in workers:
                worker.cancel()
                with suppress(asyncio.CancelledError):
                    await worker
            await action_targets.drain(grace=ASYNC_TARGETS_GRACE)  # restAsync calls still in flight
            if prebuilt is None:
                await built.close()

    metrics = Metrics()
    app = Starlette(
        routes=routes(),
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, DomainError: _domain_error},
    )
    app.state.metrics = metrics
    app.state.settings = settings
    app.add_middleware(RateLimitMiddleware)  # inside RequestMiddleware: a 429 gets the headers, the log
    app.add_middleware(RequestMiddleware, metrics=metrics, https=settings.is_https)
    return app


def worker_app() -> Starlette:
    """Entry point for `uvicorn --factory` worker processes."""
    settings = load_worker_settings()
    logs.configure(settings.log_format, settings.log_level)
    return create_app(settings)
