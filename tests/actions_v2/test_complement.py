"""Actions v2 end to end, through real HTTP on SQLite and PostgreSQL: a live target server bound
to the functions preuserinfo and preaccesstoken changes the ID token, the JWT access token,
userinfo and introspection, receives ZITADEL's payload signed with its key, sets user metadata,
and fails the request only when it is a target with interruptOnError (spec/actions.md §3)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio

from bergfried.domain.targets import NewTarget, TargetType
from bergfried.management import actions_v2 as ops
from bergfried.store import metadata
from bergfried.store import tables as t
from tests.actions.conftest import clear, introspect, server_error, token_response, userinfo
from tests.actions_v2.conftest import TargetServer
from tests.claims.world import Scenario, World, decode, open_world
from tests.conftest import ENGINES

pytestmark = pytest.mark.asyncio(loop_scope="module")

FULL = Scenario("full", "openid")  # JWT access token
LOG_USERINFO = "urn:zitadel:iam:action:function/preuserinfo:log"
LOG_ACCESS_TOKEN = "urn:zitadel:iam:action:function/preaccesstoken:log"


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=ENGINES)
async def acme(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async for opened in open_world(request.param, tmp_path_factory.mktemp("actions_v2")):
        yield opened


async def bind(world: World, server: TargetServer, *targets: tuple[str, TargetType, bool],
               functions: tuple[str, ...] = ("preuserinfo", "preaccesstoken")) -> None:
    """Replace the instance's targets with these (path, type, interruptOnError), run in order."""
    await clear(world)
    async with world.services.store.write() as tx:
        await tx.conn.execute(t.executions.delete())
        await tx.conn.execute(t.targets.delete())
    ids = []
    for n, (path, kind, interrupt) in enumerate(targets):
        target, key = await ops.create_target(world.services, "test", NewTarget(
            name=f"target{n}", type=kind, endpoint=server.url(path), timeout=timedelta(seconds=2),
            interrupt_on_error=interrupt))
        server.keys[path] = key
        ids.append(target.id)
    for function in functions:
        await ops.set_execution(world.services, "test", f"function/{function}", ids)


async def four(world: World) -> dict[str, dict[str, Any]]:
    response = await token_response(world, FULL)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    info, inspected = await userinfo(world, token), await introspect(world, FULL, token)
    assert info.status_code == 200, info.text
    assert inspected.status_code == 200, inspected.text
    return {"id_token": decode(response.json()["id_token"]), "access_token": decode(token),
            "userinfo": info.json(), "introspection": inspected.json()}


@pytest.mark.rule("spec/actions.md §3.5: a restCall target's claims and log lines reach every token and answer")
async def test_call_target_claims_everywhere(acme: World, target_server: TargetServer) -> None:
    target_server.answer("/call", {
        "append_claims": [{"key": "crm_tier", "value": "gold"}, {"key": "urn:zitadel:iam:claim", "value": "no"},
                          {"key": "crm_tier", "value": "twice"}],
        "append_log_claims": ["looked up CRM"],
    })
    await bind(acme, target_server, ("/call", TargetType.CALL, True))
    got = await four(acme)
    for where, claims in got.items():
        assert claims["crm_tier"] == "gold", where
        assert "urn:zitadel:iam:claim" not in claims, where
    assert got["access_token"][LOG_ACCESS_TOKEN][-2:] == ['key "crm_tier" already exists', "looked up CRM"]
    for where in ("id_token", "userinfo", "introspection"):
        assert got[where][LOG_USERINFO][-1] == "looked up CRM", where
    assert LOG_USERINFO not in got["access_token"]
    assert all(r.signed_ok for r in target_server.received)
    functions = [r.payload["function"] for r in target_server.received]
    assert set(functions) == {"function/preuserinfo", "function/preaccesstoken"}


@pytest.mark.rule("spec/actions.md §3.4: the payload — userinfo so far, user, base64 metadata, org, grants, client")
async def test_payload(acme: World, target_server: TargetServer) -> None:
    await bind(acme, target_server, ("/hook", TargetType.WEBHOOK, True), functions=("preuserinfo",))
    response = await token_response(acme, FULL)
    assert response.status_code == 200, response.text
    [sent] = target_server.received  # the ID token's run
    body = sent.payload
    assert body["function"] == "function/preuserinfo"
    assert body["userinfo"]["sub"] == acme.user.id
    user = body["user"]
    assert (user["id"], user["resource_owner"], user["state"], user["type"]) == (acme.user.id, acme.acme.id, 1, 1)
    assert user["human"]["first_name"] == "Road"
    assert user["human"]["is_email_verified"] is True
    assert {"key": "contract", "value": base64.b64encode(b"1234").decode(), "resource_owner": acme.acme.id} \
        in body["user_metadata"]
    assert body["org"] == {"id": acme.acme.id, "name": acme.acme.name, "primary_domain": acme.acme.primary_domain}
    projects = {g["project_id"] for g in body["user_grants"]}
    assert {acme.project_a.id, acme.project_b.id} <= projects
    assert all(g["user_id"] == acme.user.id for g in body["user_grants"])
    assert body["application"] == {"client_id": acme.clients["full"].app.client_id}


@pytest.mark.rule("spec/actions.md §3.5: set_user_metadata is stored (base64 of the raw bytes)")
async def test_call_target_sets_metadata(acme: World, target_server: TargetServer) -> None:
    target_server.answer("/call", {"set_user_metadata": [
        {"key": "lastLogin", "value": base64.b64encode(b"2025-08-01").decode()}]})
    await bind(acme, target_server, ("/call", TargetType.CALL, False), functions=("preuserinfo",))
    assert (await token_response(acme, FULL)).status_code == 200
    async with acme.services.store.read() as conn:
        assert await metadata.get_one(conn, acme.user.id, "lastLogin") == b"2025-08-01"
    async with acme.services.store.write() as tx:
        await metadata.remove_many(tx, acme.user, ["lastLogin"])


@pytest.mark.rule("spec/actions.md §3.2: a failing target without interruptOnError changes nothing; "
                  "the async target never delays the token")
async def test_soft_failures_do_not_fail_the_request(acme: World, target_server: TargetServer) -> None:
    target_server.answer("/call", {"append_claims": [{"key": "after", "value": 1}]})
    await bind(acme, target_server, ("/status/500", TargetType.WEBHOOK, False), ("/garbage", TargetType.CALL, False),
               ("/slow", TargetType.ASYNC, False), ("/call", TargetType.CALL, False))
    target_server.delay = 0.2
    for where, claims in (await four(acme)).items():
        assert claims["after"] == 1, where


@pytest.mark.rule("spec/actions.md §3.2: a target with interruptOnError that fails fails the token, userinfo "
                  "and introspection as server_error, without a stack trace")
async def test_interrupt_on_error(acme: World, target_server: TargetServer) -> None:
    await clear(acme)
    async with acme.services.store.write() as tx:
        await tx.conn.execute(t.executions.delete())
    token = (await token_response(acme, FULL)).json()["access_token"]
    await bind(acme, target_server, ("/status/503", TargetType.WEBHOOK, True))
    assert server_error(await token_response(acme, FULL))["error_description"] == "Errors.Execution.Failed"
    assert server_error(await userinfo(acme, token))["error_description"] == "Errors.Execution.Failed"
    assert server_error(await introspect(acme, FULL, token))["error_description"] == "Errors.Execution.Failed"
    target_server.answer("/deny", {"forwardedStatusCode": 403, "forwardedErrorMessage": "user is blocked"})
    await bind(acme, target_server, ("/deny", TargetType.CALL, True))
    assert server_error(await userinfo(acme, token))["error_description"] == "user is blocked"
    async with acme.services.store.write() as tx:
        await tx.conn.execute(t.executions.delete())
