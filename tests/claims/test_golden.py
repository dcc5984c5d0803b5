"""Golden JSON: spec/claims.md §5's example payloads, read from the spec itself, against real
answers for the same scopes and settings. The example's ids are replaced by the world's (the
user, its organization, its primary domain, the project); token values (times, ids, `amr`) are
the token's own. Reserved claims must match value for value."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bergfried.claims.matrix import Destination
from bergfried.store import instances, projects
from tests.claims.world import Scenario, World

pytestmark = pytest.mark.asyncio(loop_scope="module")

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "claims.md"
SECTION = SPEC.read_text(encoding="utf-8").split("## 5. Example payloads", 1)[1]
EXAMPLES = [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", SECTION, re.S)]
USERINFO, INTROSPECTION, INACTIVE, ID_TOKEN, ACCESS_TOKEN = EXAMPLES

USERINFO_SCOPE = ("openid profile email phone urn:zitadel:iam:user:metadata urn:zitadel:iam:user:resourceowner "
                  "urn:zitadel:iam:org:project:role:admin")
ID_TOKEN_SCOPE = "openid profile email urn:zitadel:iam:org:project:role:admin"
TOKEN_VALUES = {"exp", "iat", "nbf", "auth_time", "jti", "aud", "client_id", "azp", "at_hash", "sid", "nonce", "amr",
                "iss", "updated_at"}
PROJECTS_ROLES = "urn:zitadel:iam:org:projects:roles"


def ours(world: World, example: dict[str, Any]) -> dict[str, Any]:
    """The example with the world's ids in place of the spec's."""
    text = json.dumps(example)
    for theirs, mine in (("164849494297477377", world.user.id), ("69629023906488334", world.acme.id),
                         ("acme.zitadel.cloud", world.acme.primary_domain),
                         ("243864381169886443", world.project_a.id)):
        text = text.replace(theirs, mine)
    return dict(json.loads(text))


def same_values(expected: dict[str, Any], actual: dict[str, Any]) -> None:
    for key, value in expected.items():
        if key not in TOKEN_VALUES:
            assert actual[key] == value, key


async def test_the_spec_has_the_five_examples() -> None:
    assert INACTIVE == {"active": False}
    assert USERINFO["urn:zitadel:iam:user:metadata"] == {"contract": "MTIzNA"}


@pytest.mark.rule("spec/claims.md §5: userinfo example, exactly")
async def test_userinfo_example(world: World) -> None:
    actual = await world.payload(Scenario("plain", USERINFO_SCOPE), Destination.USERINFO)
    expected = ours(world, USERINFO)
    expected["updated_at"] = actual["updated_at"]
    assert actual == expected


@pytest.mark.rule("spec/claims.md §5: introspection example (token values are the token's)")
async def test_introspection_example(world: World) -> None:
    actual = await world.payload(Scenario("plain", USERINFO_SCOPE), Destination.INTROSPECTION)
    expected = ours(world, INTROSPECTION)
    # The example leaves out nickname and gender, which the userinfo example of the same token has.
    assert set(actual) - set(expected) == {"nickname", "gender"}
    assert set(expected) <= set(actual)
    same_values(expected, actual)
    assert actual["client_id"] == world.clients["plain"].app.client_id
    assert world.project_a.id in actual["aud"]
    assert actual["username"] == actual["preferred_username"]


@pytest.mark.rule("spec/claims.md §5: ID token example; plus acr (spec/README.md decision), profile claims")
async def test_id_token_example(world: World) -> None:
    actual = await world.payload(Scenario("full", ID_TOKEN_SCOPE), Destination.ID_TOKEN)
    expected = ours(world, ID_TOKEN)
    assert set(expected) <= set(actual)
    assert set(actual) - set(expected) == {"acr", "nickname", "gender", PROJECTS_ROLES}
    same_values(expected, actual)
    assert actual[PROJECTS_ROLES] == expected["urn:zitadel:iam:org:project:roles"]
    assert actual["azp"] == actual["client_id"] == world.clients["full"].app.client_id


@pytest.mark.rule("spec/claims.md §5: JWT access token example; plus azp (spec/README.md decision)")
async def test_jwt_access_token_example(world: World) -> None:
    scope = f"{ID_TOKEN_SCOPE} urn:zitadel:iam:user:metadata"
    actual = await world.payload(Scenario("full", scope), Destination.ACCESS_TOKEN)
    expected = ours(world, ACCESS_TOKEN)
    assert set(expected) <= set(actual)
    assert set(actual) - set(expected) == {"azp", PROJECTS_ROLES}
    same_values(expected, actual)


@pytest.mark.rule("spec/claims.md §3: the reserved claims' JSON, one by one")
@pytest.mark.parametrize("claim", [
    "urn:zitadel:iam:user:metadata", "urn:zitadel:iam:user:resourceowner:id",
    "urn:zitadel:iam:user:resourceowner:name", "urn:zitadel:iam:user:resourceowner:primary_domain",
    "urn:zitadel:iam:org:project:roles", "urn:zitadel:iam:org:project:243864381169886443:roles", PROJECTS_ROLES,
])
async def test_reserved_claim(world: World, claim: str) -> None:
    expected = ours(world, USERINFO)
    key = claim.replace("243864381169886443", world.project_a.id)
    for destination, scenario in ((Destination.USERINFO, Scenario("plain", USERINFO_SCOPE)),
                                  (Destination.INTROSPECTION, Scenario("plain", USERINFO_SCOPE)),
                                  (Destination.ID_TOKEN, Scenario("full", USERINFO_SCOPE)),
                                  (Destination.ACCESS_TOKEN, Scenario("full", USERINFO_SCOPE))):
        assert (await world.payload(scenario, destination))[key] == expected[key], destination


@pytest.mark.rule("spec/claims.md §3: org scopes assert the id and domain they name")
async def test_org_scope_claims(world: World) -> None:
    scope = (f"openid urn:zitadel:iam:org:id:{world.acme.id} "
             f"urn:zitadel:iam:org:domain:primary:{world.acme.primary_domain}")
    actual = await world.payload(Scenario("plain", scope), Destination.USERINFO)
    assert actual["urn:zitadel:iam:org:id"] == world.acme.id
    assert actual["urn:zitadel:iam:org:domain:primary"] == world.acme.primary_domain
    assert actual["urn:zitadel:iam:user:resourceowner:id"] == world.acme.id
    assert actual["urn:zitadel:iam:user:resourceowner:name"] == "ACME"


@pytest.mark.rule("issue 5: roles gathered across user grants from several organizations")
async def test_roles_from_two_organizations(world: World) -> None:
    scope = "openid urn:zitadel:iam:org:project:role:user"
    actual = await world.payload(Scenario("plain", scope), Destination.USERINFO)
    assert actual["urn:zitadel:iam:org:project:roles"] == {"user": {
        world.acme.id: world.acme.primary_domain, world.partner.id: world.partner.primary_domain}}
    only_partner = f"{scope} urn:zitadel:iam:org:roles:id:{world.partner.id}"
    filtered = await world.payload(Scenario("plain", only_partner), Destination.USERINFO)
    assert filtered["urn:zitadel:iam:org:project:roles"] == {"user": {world.partner.id: world.partner.primary_domain}}


@pytest.mark.rule("spec/scopes.md §3: project audience scope adds the project, its roles with projects:roles")
async def test_audience_scope(world: World) -> None:
    b = world.project_b
    scope = f"openid urn:zitadel:iam:org:project:id:{b.id}:aud urn:zitadel:iam:org:projects:roles"
    payloads = await world.payloads(Scenario("full", scope))
    token = payloads.by_destination[Destination.ACCESS_TOKEN]
    assert b.id in token["aud"]
    assert world.clients["asserting"].app.client_id in token["aud"]
    assert token[f"urn:zitadel:iam:org:project:{b.id}:roles"] == {"viewer": {world.acme.id: world.acme.primary_domain}}
    assert "viewer" in token[PROJECTS_ROLES]
    alone = await world.payload(Scenario("full", "openid urn:zitadel:iam:org:projects:roles"), Destination.USERINFO)
    assert not [key for key in alone if key.endswith(":roles")]  # on its own it yields no role claims


@pytest.mark.rule("spec/scopes.md §3: urn:zitadel:iam:org:project:id:zitadel:aud adds the ZITADEL project")
async def test_zitadel_audience_scope(world: World) -> None:
    async with world.services.store.write() as tx:
        instance = await instances.get(tx.conn)
        if instance is None:
            instance = await instances.create(tx, instance_id=tx.new_id(), name="test", domain="localhost",
                                              default_org_id=world.acme.id)
            assert instance is not None
        zitadel, _ = await projects.create(tx, world.acme.id, f"ZITADEL-{tx.new_id()}")
        await instances.set_zitadel_project(tx, instance, zitadel.id)
    with_scope = await world.payload(Scenario("full", "openid urn:zitadel:iam:org:project:id:zitadel:aud"),
                                     Destination.ACCESS_TOKEN)
    assert zitadel.id in with_scope["aud"]
    assert world.project_a.id in with_scope["aud"]
    without = await world.payload(Scenario("full", "openid"), Destination.ACCESS_TOKEN)
    assert zitadel.id not in without["aud"]
