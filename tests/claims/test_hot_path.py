"""Userinfo and introspection stay bounded (ARCHITECTURE.md "Lean hot paths"): the user's grants
cost one more indexed query, and only when the matrix says a roles claim can be emitted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from tests.claims.world import Scenario, World, basic

pytestmark = pytest.mark.asyncio(loop_scope="module")


@contextmanager
def selects(world: World) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    engine = world.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def _userinfo_selects(world: World, scenario: Scenario) -> list[str]:
    token = (await world.payloads(scenario)).access_token
    assert token is not None
    with selects(world) as seen:
        response = await world.client.get("/oidc/v1/userinfo", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return seen


@pytest.mark.rule("ARCHITECTURE.md: hot paths use a bounded number of indexed queries")
async def test_userinfo_loads_grants_only_when_roles_can_be_emitted(world: World) -> None:
    plain = await _userinfo_selects(world, Scenario("plain", "openid profile"))
    roles = await _userinfo_selects(world, Scenario("plain", "openid profile urn:zitadel:iam:org:project:role:admin"))
    # the token, the user with its organization, the client's settings, whether actions or a v2
    # execution exist for the trigger (one query of two EXISTS, spec/actions.md §1)
    assert len(plain) == 4, plain
    assert len(roles) == 5, roles  # + the user's grants with their organizations' domains
    assert not any("user_grants" in statement for statement in plain)


async def test_introspection_is_bounded(world: World) -> None:
    payloads = await world.payloads(Scenario("plain", "openid urn:zitadel:iam:user:metadata"))
    client = world.clients["plain"]
    with selects(world) as seen:
        response = await world.client.post("/oauth/v2/introspect", data={"token": payloads.access_token},
                                           headers=basic(client.api.client_id, client.api_secret))
    assert response.json()["active"] is True
    # client authentication, the token, the user, its metadata, the project's flag, the grants,
    # whether actions exist
    assert len(seen) <= 7, seen
