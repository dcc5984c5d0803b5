"""One trigger, both kinds of actions: the v1 scripts of the user's organization run first, then the
instance's v2 targets, which see the v1 claims in their payload and cannot overwrite them
(spec/actions.md §1 "Order inside one trigger")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bergfried.domain.targets import NewTarget, TargetType
from bergfried.management import actions_v2
from bergfried.store import tables as t
from tests.actions.conftest import bind, token_response, userinfo
from tests.actions.test_complement_token import FULL, four
from tests.actions_v2.conftest import TargetServer, target_server  # noqa: F401  (fixture, used by name)
from tests.claims.world import World

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.rule("spec/actions.md §1: v1 actions of the trigger in order, then the v2 targets")
async def test_v1_actions_run_before_v2_targets(world: World, target_server: TargetServer) -> None:  # noqa: F811
    target_server.answer("/call", {"append_claims": [{"key": "shared", "value": "v2"},
                                                     {"key": "only_v2", "value": 2}]})
    await bind(world, ("first", """
function first(ctx, api) {
  api.v1.claims.setClaim('shared', 'v1');
  api.v1.claims.setClaim('only_v1', 1);
}
"""))
    target, key = await actions_v2.create_target(world.services, "test", NewTarget(
        name="crm", type=TargetType.CALL, endpoint=target_server.url("/call"), timeout=timedelta(seconds=2),
        interrupt_on_error=True))
    target_server.keys["/call"] = key
    for function in ("preuserinfo", "preaccesstoken"):
        await actions_v2.set_execution(world.services, "test", f"function/{function}", [target.id])
    try:
        got = await four(world)
        for where, claims in got.items():
            assert (claims["shared"], claims["only_v1"], claims["only_v2"]) == ("v1", 1, 2), where
        assert got["userinfo"]["urn:zitadel:iam:action:function/preuserinfo:log"] == ['key "shared" already exists']
        sent = [r.payload for r in target_server.received]
        assert sent
        assert all(p["userinfo"]["only_v1"] == 1 for p in sent)  # the v1 claims are in the v2 payload
    finally:
        async with world.services.store.write() as tx:
            await tx.conn.execute(t.executions.delete())
            await tx.conn.execute(t.targets.delete())
    assert "only_v2" not in (await userinfo(world, (await _token(world)))).json()


async def _token(world: World) -> str:
    response = await token_response(world, FULL)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
