"""Actions and flows through the management API v1 (spec/actions.md §2.1): ZITADEL's paths, shapes,
limits, errors and permissions, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.calls import expect_error, ok
from tests.api.conftest import World, open_world

MGMT = "/management/v1"
SCRIPT = "function addClaim(ctx, api) { api.v1.claims.setClaim('year', 2023); }"


@pytest.fixture
async def api(engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[World]:
    async with AsyncExitStack() as stack:
        yield await open_world(stack, engine, tmp_path)


async def create(api: World, name: str = "addClaim", **fields: Any) -> str:
    body = ok(await api.call("POST", f"{MGMT}/actions", api.owner, json={"name": name, "script": SCRIPT, **fields}))
    assert body["details"]["resourceOwner"] == api.acme.id
    return str(body["id"])


async def action(api: World, action_id: str, token: str | None = None) -> dict[str, Any]:
    got: dict[str, Any] = ok(await api.call("GET", f"{MGMT}/actions/{action_id}", token or api.owner))["action"]
    return got


@pytest.mark.rule("spec/actions.md §2.1: CreateAction, GetAction, UpdateAction, Deactivate/Reactivate, DeleteAction")
async def test_action_lifecycle(api: World) -> None:
    action_id = await create(api, timeout="10s", allowedToFail=True)
    got = await action(api, action_id)
    assert got == {"id": action_id, "details": got["details"], "state": "ACTION_STATE_ACTIVE", "name": "addClaim",
                   "script": SCRIPT, "timeout": "10s", "allowedToFail": True}
    assert set(got["details"]) == {"sequence", "creationDate", "changeDate", "resourceOwner"}
    default = await action(api, await create(api, "other"))
    assert default["timeout"] == "20s"  # 0 / absent is the maximum
    assert "allowedToFail" not in default
    ok(await api.call("PUT", f"{MGMT}/actions/{action_id}", api.owner,
                      json={"name": "addClaim", "script": SCRIPT, "timeout": "0.5s"}))
    got = await action(api, action_id)
    assert float(got["timeout"].removesuffix("s")) == 0.5
    assert "allowedToFail" not in got
    expect_error(await api.call("PUT", f"{MGMT}/actions/{action_id}", api.owner,
                                json={"name": "addClaim", "script": SCRIPT, "timeout": "0.5s"}), 400, 9)
    ok(await api.call("POST", f"{MGMT}/actions/{action_id}/_deactivate", api.owner))
    assert (await action(api, action_id))["state"] == "ACTION_STATE_INACTIVE"
    expect_error(await api.call("POST", f"{MGMT}/actions/{action_id}/_deactivate", api.owner), 400, 9)
    ok(await api.call("POST", f"{MGMT}/actions/{action_id}/_reactivate", api.owner))
    expect_error(await api.call("POST", f"{MGMT}/actions/{action_id}/_reactivate", api.owner), 400, 9)
    ok(await api.call("DELETE", f"{MGMT}/actions/{action_id}", api.owner))
    expect_error(await api.call("GET", f"{MGMT}/actions/{action_id}", api.owner), 404, 5)
    expect_error(await api.call("DELETE", f"{MGMT}/actions/{action_id}", api.owner), 404, 5)


@pytest.mark.rule("spec/actions.md §2.1: name 1-200, script 1-40000 bytes, timeout 0-20s")
@pytest.mark.parametrize(("fields", "text"), [
    ({"name": ""}, "Name"),
    ({"name": "n" * 201}, "Name"),
    ({"script": ""}, "Script"),
    ({"script": "/*" + "ü" * 20_000 + "*/"}, "Script"),  # 40 004 bytes, 20 004 characters
    ({"timeout": "21s"}, "Timeout"),
    ({"timeout": "-1s"}, "Timeout"),
    ({"timeout": "soon"}, ""),
])
async def test_action_limits(api: World, fields: dict[str, Any], text: str) -> None:
    body = {"name": "addClaim", "script": SCRIPT, **fields}
    expect_error(await api.call("POST", f"{MGMT}/actions", api.owner, json=body), 400, 3, text)
    assert ok(await api.call("POST", f"{MGMT}/actions/_search", api.owner, json={}))["details"].get(
        "totalResult", "0") == "0"


async def test_list_actions_filters(api: World) -> None:
    first, second = await create(api, "alpha"), await create(api, "beta")
    ok(await api.call("POST", f"{MGMT}/actions/{second}/_deactivate", api.owner))
    search = f"{MGMT}/actions/_search"
    listed = ok(await api.call("POST", search, api.owner, json={}))
    assert [a["id"] for a in listed["result"]] == [first, second]
    assert listed["details"]["totalResult"] == "2"
    by_name = ok(await api.call("POST", search, api.owner, json={"queries": [
        {"actionNameQuery": {"name": "AL", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]}))
    assert [a["name"] for a in by_name["result"]] == ["alpha"]
    by_state = ok(await api.call("POST", search, api.owner, json={"queries": [
        {"actionStateQuery": {"state": "ACTION_STATE_INACTIVE"}}]}))
    assert [a["id"] for a in by_state["result"]] == [second]
    by_id = ok(await api.call("POST", search, api.owner, json={"queries": [{"actionIdQuery": {"id": first}}]}))
    assert [a["id"] for a in by_id["result"]] == [first]
    other = ok(await api.call("POST", search, api.other_owner, json={}))
    assert other.get("result", []) == []


@pytest.mark.rule("spec/actions.md §2.1: SetTriggerActions, GetFlow, ClearFlow, ListFlowTypes, ListFlowTriggerTypes")
async def test_flows(api: World) -> None:
    first, second = await create(api, "first"), await create(api, "second")
    set_path = f"{MGMT}/flows/2/trigger/4"
    ok(await api.call("POST", set_path, api.owner, json={"actionIds": [second, first]}))
    ok(await api.call("POST", f"{MGMT}/flows/2/trigger/5", api.owner, json={"actionIds": [first]}))
    flow = ok(await api.call("GET", f"{MGMT}/flows/2", api.owner))["flow"]
    assert flow["type"] == {"id": "2", "name": {"key": "Action.Flow.Type.CustomiseToken",
                                                "localizedMessage": "Complement Token"}}
    assert flow["state"] == "FLOW_STATE_ACTIVE"
    triggers = flow["triggerActions"]
    assert [t["triggerType"]["id"] for t in triggers] == ["4", "5"]
    assert triggers[0]["triggerType"]["name"] == {"key": "Action.TriggerType.PreUserinfoCreation",
                                                  "localizedMessage": "Pre Userinfo creation"}
    assert [a["id"] for a in triggers[0]["actions"]] == [second, first]
    assert [a["name"] for a in triggers[1]["actions"]] == ["first"]
    expect_error(await api.call("POST", set_path, api.owner, json={"actionIds": [second, first]}), 400, 9)
    expect_error(await api.call("POST", f"{MGMT}/flows/2/trigger/1", api.owner, json={"actionIds": [first]}), 400, 3)
    expect_error(await api.call("POST", f"{MGMT}/flows/9/trigger/4", api.owner, json={"actionIds": [first]}), 400, 3)
    foreign = ok(await api.call("POST", f"{MGMT}/actions", api.other_owner, json={"name": "x", "script": SCRIPT}))
    expect_error(await api.call("POST", set_path, api.owner, json={"actionIds": [foreign["id"]]}), 400, 9)
    ok(await api.call("DELETE", f"{MGMT}/actions/{second}", api.owner))  # leaves the flow with it
    flow = ok(await api.call("GET", f"{MGMT}/flows/2", api.owner))["flow"]
    assert [a["id"] for a in flow["triggerActions"][0]["actions"]] == [first]
    ok(await api.call("POST", f"{MGMT}/flows/2/_clear", api.owner))
    assert "triggerActions" not in ok(await api.call("GET", f"{MGMT}/flows/2", api.owner))["flow"]
    expect_error(await api.call("POST", f"{MGMT}/flows/2/_clear", api.owner), 400, 9)
    other_flow = ok(await api.call("GET", f"{MGMT}/flows/2", api.other_owner))["flow"]
    assert "triggerActions" not in other_flow
    types = ok(await api.call("POST", f"{MGMT}/flows/types/_search", api.owner, json={}))["result"]
    assert [t["id"] for t in types] == ["1", "2", "3", "4"]
    trig = ok(await api.call("POST", f"{MGMT}/flows/2/triggers/_search", api.owner, json={}))["result"]
    assert [t["id"] for t in trig] == ["4", "5"]
    old_name = ok(await api.call("POST", f"{MGMT}/flows/FLOW_TYPE_EXTERNAL_AUTHENTICATION/triggers/_search",
                                 api.owner, json={}))["result"]
    assert [t["id"] for t in old_name] == ["1", "2", "3"]


@pytest.mark.rule("spec/actions.md §2.1: org.action.* and org.flow.* permissions; actions belong to one organization")
async def test_permissions(api: World) -> None:
    action_id = await create(api)
    for method, path, body in [
        ("POST", f"{MGMT}/actions", {"name": "a", "script": SCRIPT}),
        ("GET", f"{MGMT}/actions/{action_id}", None),
        ("POST", f"{MGMT}/actions/_search", {}),
        ("DELETE", f"{MGMT}/actions/{action_id}", None),
        ("GET", f"{MGMT}/flows/2", None),
        ("POST", f"{MGMT}/flows/2/trigger/4", {"actionIds": [action_id]}),
        ("POST", f"{MGMT}/flows/2/_clear", None),
    ]:
        expect_error(await api.call(method, path, api.weak, json=body), 403, 7)
    expect_error(await api.call("GET", f"{MGMT}/actions/{action_id}", api.other_owner), 404, 5)
    expect_error(await api.call("POST", f"{MGMT}/actions/{action_id}/_deactivate", api.other_owner), 404, 5)
    assert (await action(api, action_id))["state"] == "ACTION_STATE_ACTIVE"
    expect_error(await api.call("GET", f"{MGMT}/actions/{action_id}"), 401, 16)
