"""Userinfo and introspection stay bounded (ARCHITECTURE.md "Lean hot paths"; issue 10 §3 "at most
2 indexed queries on each hot path"): the token with its subject and everything the claims
need, in one statement (claims/subject.py). Introspection also authenticates its caller."""

from __future__ import annotations

from typing import Any

import pytest

from tests.claims.world import Scenario, World, basic
from tests.statements import selects as count_selects

pytestmark = pytest.mark.asyncio(loop_scope="module")


def selects(world: World) -> Any:
    return count_selects(world.services.engine)


async def _userinfo_selects(world: World, scenario: Scenario) -> list[str]:
    token = (await world.payloads(scenario)).access_token
    assert token is not None
    with selects(world) as seen:
        response = await world.client.get("/oidc/v1/userinfo", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return seen


@pytest.mark.rule("issue 10 §3: at most 2 indexed queries on each hot path")
async def test_userinfo_is_one_statement_with_or_without_roles(world: World) -> None:
    plain = await _userinfo_selects(world, Scenario("plain", "openid profile"))
    roles = await _userinfo_selects(world, Scenario("plain", "openid profile urn:zitadel:iam:org:project:role:admin"))
    metadata = await _userinfo_selects(world, Scenario("plain", "openid profile urn:zitadel:iam:user:metadata"))
    # one statement: the token with its user, organization, metadata, grants, the client's
    # settings and whether actions or a v2 execution exist for the trigger (spec/actions.md §1)
    for seen in (plain, roles, metadata):
        assert len(seen) == 1, seen
    assert "access_tokens" in plain[0]
    assert "users" in plain[0]


@pytest.mark.rule("issue 10 §3: at most 2 indexed queries on each hot path")
async def test_introspection_is_bounded(world: World) -> None:
    payloads = await world.payloads(Scenario("plain", "openid urn:zitadel:iam:user:metadata"))
    client = world.clients["plain"]
    with selects(world) as seen:
        response = await world.client.post("/oauth/v2/introspect", data={"token": payloads.access_token},
                                           headers=basic(client.api.client_id, client.api_secret))
    assert response.json()["active"] is True
    # client authentication, then the token with its subject and the caller's settings
    assert len(seen) == 2, seen
