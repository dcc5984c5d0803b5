"""Actions v1 in the complement token flow, through real HTTP on SQLite and PostgreSQL: the seed's
three custom claim examples in the ID token, the JWT access token, userinfo and introspection, and
the rules on reserved keys, duplicates, standard claims and failing actions (spec/actions.md §2)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from bergfried.domain.actions import ActionSpec, ActionState
from bergfried.domain.metadata import Metadata
from bergfried.management import actions as ops
from bergfried.store import metadata, tables
from tests.actions.conftest import (
    ACCESS_TOKEN,
    USERINFO,
    bind,
    clear,
    introspect,
    server_error,
    token_response,
    userinfo,
)
from tests.claims.world import Scenario, World, decode

pytestmark = pytest.mark.asyncio(loop_scope="module")

FULL = Scenario("full", "openid")  # JWT access token; no roles scope, no e-mail scope

# seed 003 "static values as custom claim" (ZITADEL's marketplace `add_claim.js` uses the deprecated alias)
STATIC = """
function staticClaims(ctx, api) {
  api.v1.userinfo.setClaim('tenant', 'acme-prod');
  api.v1.claims.setClaim('feature_flags', ['beta', 'reports']);
}
"""
# seed 003 "metadata as custom claim" (spec/actions.md §2.2's example): the value is decoded JSON
METADATA = """
function addMetaClaim(ctx, api) {
  var md = ctx.v1.user.getMetadata();
  for (var i = 0; i < md.count; i++) {
    if (md.metadata[i].key === 'contract') {
      api.v1.claims.setClaim('contract', md.metadata[i].value);
    }
  }
}
"""
# seed 003 "format roles claims": every grant's roles as "<projectId>:<role>"
ROLES = """
function flatRoles(ctx, api) {
  var grants = ctx.v1.user.grants;
  if (grants === undefined || grants.count === 0) {
    return;
  }
  let roles = [];
  grants.grants.forEach(grant => {
    grant.roles.forEach(role => roles.push(`${grant.projectId}:${role}`));
  });
  api.v1.claims.setClaim('my:zitadel:grants', roles);
}
"""
SEED = (("staticClaims", STATIC), ("addMetaClaim", METADATA), ("flatRoles", ROLES))


async def four(world: World, scenario: Scenario = FULL) -> dict[str, dict[str, Any]]:
    """ID token, JWT access token, userinfo and introspection of one code flow."""
    response = await token_response(world, scenario)
    assert response.status_code == 200, response.text
    answer = response.json()
    token = answer["access_token"]
    info, inspected = await userinfo(world, token), await introspect(world, scenario, token)
    assert info.status_code == 200, info.text
    assert inspected.status_code == 200, inspected.text
    return {"id_token": decode(answer["id_token"]), "access_token": decode(token), "userinfo": info.json(),
            "introspection": inspected.json()}


def expected_roles(world: World) -> list[str]:
    a, b = world.project_a.id, world.project_b.id
    return sorted([f"{a}:admin", f"{a}:user", f"{a}:user", f"{b}:viewer"])


@pytest.mark.rule("seed 003 custom claims: the three examples reach the ID token, the JWT access token, userinfo "
                  "and introspection")
async def test_seed_examples_in_every_token_and_answer(world: World) -> None:
    await bind(world, *SEED)
    for where, claims in (await four(world)).items():
        assert claims["tenant"] == "acme-prod", where
        assert claims["feature_flags"] == ["beta", "reports"], where
        assert claims["contract"] == 1234, where  # bytes `1234` are JSON: a number
        assert sorted(claims["my:zitadel:grants"]) == expected_roles(world), where
        assert not any(key.startswith("urn:zitadel:iam:action:") for key in claims), (where, claims)


@pytest.mark.rule("spec/actions.md §1: pre access token creation runs for JWT access tokens only; pre userinfo "
                  "creation for the ID token, userinfo and introspection")
async def test_each_trigger_reaches_only_its_sinks(world: World) -> None:
    await bind(world, ("staticClaims", STATIC), triggers=(ACCESS_TOKEN,))
    got = await four(world)
    assert got["access_token"]["tenant"] == "acme-prod"
    assert all("tenant" not in got[where] for where in ("id_token", "userinfo", "introspection"))
    await bind(world, ("staticClaims", STATIC), triggers=(USERINFO,))
    got = await four(world)
    assert "tenant" not in got["access_token"]
    assert all(got[where]["tenant"] == "acme-prod" for where in ("id_token", "userinfo", "introspection"))


@pytest.mark.rule("spec/actions.md §1: an opaque access token carries no claims, actions or not")
async def test_opaque_access_token_runs_no_access_token_action(world: World) -> None:
    await bind(world, ("staticClaims", STATIC))
    response = await token_response(world, Scenario("plain", "openid"))
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert token.count(".") != 2
    assert (await userinfo(world, token)).json()["tenant"] == "acme-prod"


@pytest.mark.rule("spec/actions.md §2.2: urn:zitadel:iam keys are never set; Bergfried logs the attempt in "
                  "urn:zitadel:iam:action:{name}:log")
async def test_reserved_claim_is_dropped_and_logged(world: World) -> None:
    await bind(world, ("reserved", """
function reserved(ctx, api) {
  api.v1.claims.setClaim('urn:zitadel:iam:org:project:roles', {'admin': {}});
  api.v1.claims.setClaim('urn:zitadel:iam:user:resourceowner:id', 'forged');
  api.v1.claims.setClaim('allowed', true);
}
"""))
    for where, claims in (await four(world)).items():
        assert "urn:zitadel:iam:org:project:roles" not in claims, where
        assert claims.get("urn:zitadel:iam:user:resourceowner:id") != "forged", where
        assert claims["allowed"] is True
        assert claims["urn:zitadel:iam:action:reserved:log"] == [
            'key "urn:zitadel:iam:org:project:roles" is reserved and was not set',
            'key "urn:zitadel:iam:user:resourceowner:id" is reserved and was not set'], where


@pytest.mark.rule('spec/actions.md §2.2: a key set twice keeps the first value and logs key "<key>" already exists')
async def test_duplicate_keys_keep_the_first_and_log(world: World) -> None:
    await bind(world, ("first", "function first(ctx, api) { api.v1.claims.setClaim('k', 1); }"), ("second", """
function second(ctx, api) {
  api.v1.claims.appendLogIntoClaims('before');
  api.v1.claims.setClaim('k', 2);
  api.v1.userinfo.setClaim('k', 3);
  api.v1.claims.setClaim('own', ctx.v1.claims.k);
}
"""))
    claims = (await four(world))["userinfo"]
    assert claims["k"] == 1
    assert claims["own"] == 1  # ctx.v1.claims holds what earlier actions added
    assert claims["urn:zitadel:iam:action:second:log"] == ["before", 'key "k" already exists', 'key "k" already exists']
    assert "urn:zitadel:iam:action:first:log" not in claims


@pytest.mark.rule("spec/actions.md §2.2: standard claims win over custom claims of the same name, without a log")
async def test_standard_claims_win(world: World) -> None:
    await bind(world, ("spoof", """
function spoof(ctx, api) {
  api.v1.claims.setClaim('email', 'spoof@evil.example');
  api.v1.claims.setClaim('sub', 'someone-else');
}
"""))
    with_email = await four(world, Scenario("full", "openid email"))
    for where in ("id_token", "userinfo", "introspection"):
        assert with_email[where]["email"] == "road.runner@acme.ch", where
        assert with_email[where]["sub"] == world.user.id, where
        assert "urn:zitadel:iam:action:spoof:log" not in with_email[where]
    without = await four(world)
    assert without["userinfo"]["email"] == "spoof@evil.example"  # the standard field is empty: as ZITADEL
    assert without["userinfo"]["sub"] == world.user.id


@pytest.mark.rule("spec/actions.md §2.2: ctx.v1 objects in ZITADEL's shapes")
async def test_context_objects(world: World) -> None:
    async with world.services.store.write() as tx:
        await metadata.set_for(tx, metadata.of_org(world.acme.id), [Metadata("tier", b'{"level": 3}')])
    await bind(world, ("inspect", """
function inspect(ctx, api) {
  var u = ctx.v1.getUser();
  api.v1.claims.setClaim('user', {id: u.id, state: u.state, first: u.human.firstName, gender: u.human.gender,
    owner: u.resourceOwner, login: u.preferredLoginName, verified: u.human.isEmailVerified});
  api.v1.claims.setClaim('client', ctx.v1.application.getClientId());
  api.v1.claims.setClaim('sub_seen', ctx.v1.claims.sub);
  var org = ctx.v1.org.getMetadata();
  api.v1.claims.setClaim('org_tier', org.metadata[0].value.level);
  var acme = ctx.v1.user.grants.grants.filter(function (g) { return g.userGrantResourceOwner === u.resourceOwner; });
  api.v1.claims.setClaim('grant_org_md', acme[0].getOrgMetadata().count);
  api.v1.claims.setClaim('grant_project', acme[0].projectName);
  require('zitadel/log').log('inspected');
  api.v1.claims.setClaim('uuid', require('zitadel/uuid').v4());
}
"""))
    claims = (await four(world))["userinfo"]
    assert claims["user"] == {"id": world.user.id, "state": 1, "first": "Road", "gender": 3, "owner": world.acme.id,
                              "login": claims["user"]["login"], "verified": True}
    assert claims["user"]["login"].startswith("road.runner@")
    assert claims["client"] == world.clients["full"].app.client_id
    assert claims["sub_seen"] == world.user.id
    assert claims["org_tier"] == 3
    assert claims["grant_org_md"] == 1
    assert claims["grant_project"] in {world.project_a.name, world.project_b.name}
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", claims["uuid"])
    async with world.services.store.write() as tx:
        await metadata.remove_for(tx, metadata.of_org(world.acme.id), ["tier"])


@pytest.mark.rule("spec/actions.md §2.2: api.v1.user.setMetadata stores the JSON-encoded value, with an event")
async def test_set_metadata_in_the_token_and_in_userinfo(world: World) -> None:
    await bind(world, ("remember", """
function remember(ctx, api) {
  api.v1.user.setMetadata('last_client', ctx.v1.application.getClientId());
}
"""), triggers=(USERINFO,))
    before = await _events(world)
    response = await token_response(world, FULL)
    assert response.status_code == 200, response.text
    client_id = world.clients["full"].app.client_id
    async with world.services.store.read() as conn:
        assert await metadata.get_one(conn, world.user.id, "last_client") == f'"{client_id}"'.encode()
    assert await _events(world) == before + 1
    await bind(world, ("remember", """
function remember(ctx, api) {
  api.v1.user.setMetadata('seen_at_userinfo', 42);
}
"""), triggers=(USERINFO,))
    assert (await userinfo(world, response.json()["access_token"])).status_code == 200
    async with world.services.store.read() as conn:
        assert await metadata.get_one(conn, world.user.id, "seen_at_userinfo") == b"42"
    async with world.services.store.write() as tx:
        await metadata.remove_many(tx, world.user, ["last_client", "seen_at_userinfo"])


async def _events(world: World) -> int:
    async with world.services.store.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(tables.events).where(
            tables.events.c.event_type == "user.metadata.set"))).scalar_one())


@pytest.mark.rule("spec/actions.md §2.1: a failing action fails the request as server_error unless allowedToFail")
async def test_failing_action_fails_token_userinfo_and_introspection(world: World) -> None:
    await clear(world)
    issued = await token_response(world, FULL)
    token = issued.json()["access_token"]
    await bind(world, ("boom", "function boom(ctx, api) { api.v1.claims.setClaim('x', 1); throw new Error('boom'); }"))
    expected = 'action "boom" failed: Error: boom'
    assert server_error(await token_response(world, FULL))["error_description"] == expected
    assert server_error(await userinfo(world, token))["error_description"] == expected
    assert server_error(await introspect(world, FULL, token))["error_description"] == expected


@pytest.mark.rule("spec/actions.md §2.1: allowedToFail: the token is issued without that action's claims")
async def test_allowed_to_fail_drops_only_that_action(world: World) -> None:
    ids = await bind(world, ("boom", "function boom(ctx, api) { api.v1.claims.setClaim('x', 1); null.crash(); }"),
                     ("staticClaims", STATIC))
    async with world.services.store.write() as tx:
        action = await ops.get(tx.conn, world.acme.id, ids[0])
        await ops.update(tx, world.acme.id, ids[0], _spec(action, allowed_to_fail=True))
    for where, claims in (await four(world)).items():
        assert "x" not in claims, where
        assert claims["tenant"] == "acme-prod", where


@pytest.mark.rule("spec/actions.md §2.1: the script must define a function named like the action")
async def test_missing_function_is_an_error(world: World) -> None:
    await bind(world, ("named", "function other(ctx, api) {}"))
    assert server_error(await token_response(world, FULL))["error_description"] == \
        'action "named" failed: Error: function not found'


@pytest.mark.rule("spec/actions.md §2.1: a deactivated action stays in the flow and does not run")
async def test_deactivated_action_does_not_run(world: World) -> None:
    ids = await bind(world, ("staticClaims", STATIC))
    async with world.services.store.write() as tx:
        await ops.set_state(tx, world.acme.id, ids[0], ActionState.INACTIVE)
    assert "tenant" not in (await four(world))["userinfo"]


def _spec(action: Any, **changes: Any) -> ActionSpec:
    values = {"name": action.name, "script": action.script, "timeout": action.timeout,
              "allowed_to_fail": action.allowed_to_fail} | changes
    return ActionSpec(**values)


@pytest.mark.rule("spec/actions.md §1: v1 actions are looked up in the user's organization, not the app's or another")
async def test_actions_of_another_organization_do_not_run(world: World) -> None:
    await clear(world)
    async with world.services.store.write() as tx:
        action_id, _ = await ops.create(tx, world.partner.id, ActionSpec("staticClaims", STATIC))
        await ops.set_trigger_actions(tx, world.partner.id, "2", USERINFO, [action_id])
        await ops.set_trigger_actions(tx, world.partner.id, "2", ACCESS_TOKEN, [action_id])
    for where, claims in (await four(world)).items():
        assert "tenant" not in claims, where
    await clear(world)


@pytest.mark.rule("issue 8: concurrent requests share the sandbox pool; each gets its own run")
async def test_concurrent_requests(world: World) -> None:
    import asyncio

    await bind(world, ("whoami", """
function whoami(ctx, api) {
  api.v1.claims.setClaim('seen_token', ctx.v1.claims.jti || ctx.v1.claims.sub);
}
"""), triggers=(USERINFO,))
    token = (await token_response(world, FULL)).json()["access_token"]
    answers = await asyncio.gather(*(userinfo(world, token) for _ in range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert {a.json()["seen_token"] for a in answers} == {world.user.id}
