"""`claims explain` tells the truth: for every scenario of the matrix test and every destination,
the claims it says are emitted are exactly the claims the real answers carry; and the CLI prints
the same verdict, with the cell and setting that decided it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bergfried.claims.explain import Explanation, explain
from bergfried.claims.matrix import ROWS, Destination
from bergfried.errors import NotFound
from tests.claims.cells import SCENARIOS, present
from tests.claims.world import Scenario, World
from tests.processes import clean_env, run_cli

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def explained(world: World, scenario: Scenario) -> Explanation:
    client = world.clients[scenario.app].app
    async with world.services.store.write() as tx:
        return await explain(tx, issuer=world.services.settings.issuer, user_id=world.user.id,
                             client_id=client.client_id, scope=world.scope(scenario.scope), must_be_domain=True,
                             response_type=scenario.response_type, nonce="n" if scenario.nonce else None)


@pytest.mark.rule("issue 5: claims explain's verdict equals the real token, cell by cell")
@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
async def test_verdict_equals_the_real_answers(world: World, scenario: Scenario) -> None:
    payloads = await world.payloads(scenario)
    explanation = await explained(world, scenario)
    for destination in Destination:
        payload = payloads.by_destination[destination]
        if not payload and destination != Destination.ACCESS_TOKEN and scenario.response_type == "id_token":
            continue  # no access token in the implicit ID-token-only flow: no userinfo, no introspection
        verdict = {d.claim: d for d in explanation.decisions[destination]}
        for row in ROWS:
            decision = verdict[row.claim]
            assert decision.emitted is present(payload, row), (
                f"{scenario} {destination.value} {row.claim}: explain says {decision.reason!r}, "
                f"the real answer {'has' if present(payload, row) else 'lacks'} it")


async def test_explains_why_a_role_claim_is_missing(world: World) -> None:
    explanation = await explained(world, Scenario("bare", "all"))
    decision = next(d for d in explanation.decisions[Destination.ID_TOKEN]
                    if d.claim == "urn:zitadel:iam:org:project:roles")
    assert decision.emitted is False
    assert decision.reason == "idTokenRoleAssertion is off"
    assert decision.cell.describe(Destination.ID_TOKEN) == (
        "when requested or projectRoleAssertion is on, and idTokenRoleAssertion is on")


async def test_json_shape_for_the_api(world: World) -> None:
    body = (await explained(world, Scenario("full", "openid"))).to_json()
    assert body["userId"] == world.user.id
    assert body["settings"]["idTokenUserinfoAssertion"] is True
    email = next(c for c in body["destinations"]["userinfo"] if c["claim"] == "email")
    assert email == {"claim": "email", "emitted": False, "cell": "when requested",
                     "reason": "not requested: no scope email"}
    sub = next(c for c in body["destinations"]["userinfo"] if c["claim"] == "sub")
    assert sub["value"] == {"sub": world.user.id}
    json.dumps(body)


async def test_dropped_scopes_and_refused_login_are_named(world: World) -> None:
    client = world.clients["plain"].app
    async with world.services.store.write() as tx:
        scope = f"openid urn:zitadel:iam:org:project:role:nope urn:zitadel:iam:org:id:{world.partner.id}"
        result = await explain(tx, issuer="http://x", user_id=world.user.id, client_id=client.client_id,
                               scope=scope, must_be_domain=True)
    assert result.to_json()["droppedScopes"] == ["urn:zitadel:iam:org:project:role:nope"]
    assert any("Errors.User.NotAllowedOrg" in note for note in result.notes)


async def test_unknown_client_is_not_found(world: World) -> None:
    async with world.services.store.write() as tx:
        with pytest.raises(NotFound):
            await explain(tx, issuer="http://x", user_id=world.user.id, client_id="nope", scope="openid",
                          must_be_domain=True)


async def test_cli_prints_the_verdict(world: World, tmp_path: Path) -> None:
    url = world.services.engine.url.render_as_string(hide_password=False)
    if not url.startswith("sqlite"):
        pytest.skip("the CLI test reads the module's SQLite world (PostgreSQL worlds live in a schema)")
    client = world.clients["full"].app
    env = clean_env(BERGFRIED_DATABASE_URL=url)
    args = ["claims", "explain", "--user", world.user.id, "--client", client.client_id, "--scope", "openid email"]
    text = run_cli([*args, "--destination", "id_token"], tmp_path, env)
    assert text.returncode == 0, text.stderr
    assert "+ email: requested by scope email and idTokenUserinfoAssertion is on" in text.stdout
    assert "\nuserinfo" not in text.stdout
    as_json = run_cli([*args, "--json"], tmp_path, env)
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    assert set(body["destinations"]) == {"userinfo", "introspection", "id_token", "access_token"}
    missing = run_cli(["claims", "explain", "--user", "nobody", "--client", client.client_id, "--scope", "openid"],
                      tmp_path, env)
    assert missing.returncode == 1
    assert missing.stderr.strip() == "bergfried: error: no user 'nobody' (give its id or a login name)"
