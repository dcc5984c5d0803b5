"""ZITADEL's health paths: `/debug/healthz` answers while the process runs, `/debug/ready` only
while the database answers (docs/architecture.md "Web")."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from bergfried.services import Services
from bergfried.web.app import create_app
from tests.web.conftest import serving


async def test_healthz_answers_200_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/debug/healthz")
    assert response.status_code == 200
    assert response.text == "ok"
    assert response.headers["content-type"].startswith("text/plain")


async def test_healthz_answers_head_without_a_body(client: httpx.AsyncClient) -> None:
    response = await client.head("/debug/healthz")
    assert response.status_code == 200
    assert response.content == b""


async def test_ready_answers_200_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/debug/ready")
    assert response.status_code == 200
    assert response.text == "ok"


async def test_ready_answers_503_json_with_retry_after_when_the_database_does_not(
    dead_services: Services,
) -> None:
    app = create_app(dead_services.settings, prebuilt=dead_services)
    async with serving(app) as client:
        response = await client.get("/debug/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["code"] == 14  # UNAVAILABLE
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["details"] == []


async def test_healthz_stays_200_while_the_database_is_down(dead_services: Services) -> None:
    """Liveness must not depend on the database, or an orchestrator restarts healthy processes."""
    app = create_app(dead_services.settings, prebuilt=dead_services)
    async with serving(app) as client:
        response = await client.get("/debug/healthz")
    assert response.status_code == 200
    assert response.text == "ok"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_health_paths_refuse_writes_with_405(client: httpx.AsyncClient, method: str) -> None:
    for path in ("/debug/healthz", "/debug/ready"):
        response = await client.request(method, path)
        assert response.status_code == 405


async def test_ready_is_503_without_services_outside_the_lifespan(app: Starlette) -> None:
    """Before the lifespan has built the services, the process is not ready."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/debug/ready")
    assert response.status_code == 503
    assert "retry-after" in response.headers
