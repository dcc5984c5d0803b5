"""The web app in-process: `create_app(settings, prebuilt=services)` with its lifespan running,
driven through httpx's ASGI transport, on SQLite and PostgreSQL (the `services` fixture)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bergfried import services as services_module
from bergfried.services import Services
from bergfried.store.engine import create_engine
from bergfried.web.app import create_app
from tests.conftest import make_settings

Endpoint = Callable[[Request], Awaitable[Response]]


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and yield a client bound to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def add_route(app: Starlette, path: str, endpoint: Endpoint, methods: list[str] | None = None) -> None:
    """A throwaway route on one test's app instance."""
    app.router.routes.append(Route(path, endpoint, methods=methods))


async def echo_thing(request: Request) -> Response:
    return PlainTextResponse(f"thing {request.path_params['thing_id']}")


@pytest.fixture
def app(services: Services) -> Starlette:
    return create_app(services.settings, prebuilt=services)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as c:
        yield c


@pytest.fixture(params=["postgresql-refused", "sqlite-unopenable"])
async def dead_services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    """Services whose database does not answer: nothing listens on port 1, or the SQLite "file"
    is a directory."""
    url = {
        "postgresql-refused": "postgresql+asyncpg://postgres@127.0.0.1:1/x",
        "sqlite-unopenable": f"sqlite+aiosqlite:///{tmp_path}",
    }
    engine = create_engine(url[request.param], pool_size=1)
    try:
        yield services_module.build(make_settings(tmp_path), engine=engine)
    finally:
        await engine.dispose()
        await _drain_aiosqlite_threads()


async def _drain_aiosqlite_threads(deadline: float = 5.0) -> None:
    """aiosqlite stops the worker thread of a failed connect without awaiting it; the thread then
    reports back to the event loop. Let it do so before pytest closes the loop."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if not any("_connection_worker_thread" in thread.name for thread in threading.enumerate()):
            return
        await asyncio.sleep(0.01)
