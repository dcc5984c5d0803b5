"""The actions tests run the claims tests' world (tests/claims/world.py: road.runner of ACME with
metadata `contract = 1234`, grants on two projects, apps with opaque and JWT access tokens) once
per module and engine, and bind actions to ACME's complement token flow between tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
import sqlalchemy as sa

from bergfried.domain.actions import ActionSpec
from bergfried.management import actions as ops
from bergfried.store import tables as t
from tests.claims.world import REDIRECT, Scenario, World, authorize, basic, open_world
from tests.conftest import ENGINES

USERINFO, ACCESS_TOKEN = "4", "5"


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=ENGINES)
async def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async for opened in open_world(request.param, tmp_path_factory.mktemp("actions")):
        yield opened


async def bind(world: World, *actions: tuple[str, str], triggers: tuple[str, ...] = (USERINFO, ACCESS_TOKEN),
               limit: float = 0, allowed_to_fail: bool = False) -> list[str]:
    """Replace ACME's actions with these (name, script) and bind them, in order, to the triggers."""
    await clear(world)
    async with world.services.store.write() as tx:
        ids = [(await ops.create(tx, world.acme.id, ActionSpec(name, script, timedelta(seconds=limit),
                                                               allowed_to_fail)))[0] for name, script in actions]
        for trigger in triggers:
            await ops.set_trigger_actions(tx, world.acme.id, "2", trigger, ids)
    return ids


async def clear(world: World) -> None:
    async with world.services.store.write() as tx:
        await tx.conn.execute(t.flow_triggers.delete())
        await tx.conn.execute(t.actions.delete())


async def token_response(world: World, scenario: Scenario) -> httpx.Response:
    """Authorize and redeem the code; the token endpoint's raw answer."""
    client = world.clients[scenario.app]
    location = await authorize(world, scenario)
    code = parse_qs(urlsplit(location).query)["code"][0]
    return await world.client.post("/oauth/v2/token", headers=basic(client.app.client_id, client.secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})


async def userinfo(world: World, token: str) -> httpx.Response:
    return await world.client.get("/oidc/v1/userinfo", headers={"authorization": f"Bearer {token}"})


async def introspect(world: World, scenario: Scenario, token: str) -> httpx.Response:
    client = world.clients[scenario.app]
    return await world.client.post("/oauth/v2/introspect", data={"token": token},
                                   headers=basic(client.api.client_id, client.api_secret))


def server_error(response: httpx.Response) -> dict[str, Any]:
    """The OAuth error answer of a failed action: server_error, 500, no stack trace."""
    assert response.status_code == 500, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == "server_error", body
    assert "Traceback" not in response.text
    assert " at <anonymous>" not in response.text
    return body


async def count_rows(world: World, table: sa.Table) -> int:
    async with world.services.store.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())
