"""The hot paths stay bounded (ARCHITECTURE.md "Lean hot paths"; issue 10 §3 "at most 2 indexed
queries on each hot path"): the token with its subject and everything the claims need, in one
statement (claims/subject.py); introspection's caller comes in that statement too; the code and
refresh grants read their client, then the code or token with its subject."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.claims.world import REDIRECT, Scenario, World, authorize, basic
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
@pytest.mark.parametrize("app", ["plain", "full"])  # an opaque access token, a JWT
async def test_introspection_is_one_statement(world: World, app: str) -> None:
    payloads = await world.payloads(Scenario(app, "openid urn:zitadel:iam:user:metadata"))
    client = world.clients[app]
    with selects(world) as seen:
        response = await world.client.post("/oauth/v2/introspect", data={"token": payloads.access_token},
                                           headers=basic(client.api.client_id, client.api_secret))
    assert response.json()["active"] is True
    # the caller's application (with its secret's hash) beside the token with its subject and the
    # caller's settings: one statement
    assert len(seen) == 1, seen
    assert "access_tokens" in seen[0]
    assert "caller" in seen[0]


async def _exchange_selects(world: World, app: str) -> tuple[list[str], list[str]]:
    """The SELECTs of a code exchange and of the refresh that follows, for a `app` client with
    every scope (roles, metadata, offline_access)."""
    client = world.clients[app]
    auth = basic(client.app.client_id, client.secret)
    location = await authorize(world, Scenario(app, "all"))
    code = parse_qs(urlsplit(location).query)["code"][0]
    with selects(world) as redeeming:
        response = await world.client.post("/oauth/v2/token", headers=auth, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    assert response.status_code == 200, response.text
    with selects(world) as refreshing:
        refreshed = await world.client.post("/oauth/v2/token", headers=auth, data={
            "grant_type": "refresh_token", "refresh_token": response.json()["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    return redeeming, refreshing


@pytest.mark.rule("issue 10 §3: at most 2 indexed queries on each hot path")
@pytest.mark.parametrize("app", ["plain", "full"])
async def test_code_and_refresh_are_two_reads(world: World, app: str) -> None:
    await _exchange_selects(world, app)  # the signing key and the policies are cached after the first
    redeeming, refreshing = await _exchange_selects(world, app)
    # client authentication, then the code (or the refresh token) with its subject, its session's
    # end and the client's settings; the rest of the exchange writes
    assert len(redeeming) == 2, redeeming
    assert "authorization_codes" in redeeming[1]
    assert "users" in redeeming[1]
    assert len(refreshing) == 2, refreshing
    assert "refresh_tokens" in refreshing[1]
    assert "users" in refreshing[1]
