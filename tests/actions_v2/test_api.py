"""Action service v2 through HTTP on SQLite and PostgreSQL (spec/actions.md §3.1): shapes,
permissions (IAM_OWNER only), validation errors in ZITADEL's JSON, and the v2beta list shapes."""

from __future__ import annotations

from typing import Any

import pytest

from bergfried.store import tables as t
from bergfried.store import targets as target_store
from tests.api.conftest import World, error_of
from tests.factories import count_rows

TARGET = {"name": "crm", "restCall": {"interruptOnError": True}, "endpoint": "https://crm.example.com/hook",
          "timeout": "10s"}


async def create(world: World, body: dict[str, Any] | None = None, prefix: str = "/v2") -> dict[str, Any]:
    response = await world.call("POST", f"{prefix}/actions/targets", world.iam_pat, json=body or TARGET)
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


@pytest.mark.rule("action_service.proto CreateTarget/GetTarget: id, creationDate, signingKey; the key sealed at rest")
async def test_create_and_get_target(world: World) -> None:
    created = await create(world)
    assert set(created) == {"id", "creationDate", "signingKey"}
    assert len(created["signingKey"]) == 64
    got = await world.call("GET", f"/v2/actions/targets/{created['id']}", world.iam_pat)
    assert got.status_code == 200, got.text
    target = got.json()["target"]
    assert target["id"] == created["id"]
    assert target["name"] == "crm"
    assert target["restCall"] == {"interruptOnError": True}
    assert target["timeout"] == "10s"
    assert target["endpoint"] == "https://crm.example.com/hook"
    assert target["signingKey"] == created["signingKey"]
    assert {"creationDate", "changeDate"} <= set(target)
    async with world.services.store.read() as conn:
        sealed = (await conn.execute(t.targets.select())).one().signing_key_sealed
    assert created["signingKey"].encode() not in bytes(sealed)
    assert target["payloadType"] == "PAYLOAD_TYPE_JSON"
    webhook = await create(world, {**TARGET, "name": "hook", "restWebhook": {}, "restCall": None,
                                   "payloadType": "PAYLOAD_TYPE_JSON"})
    got = (await world.call("GET", f"/v2/actions/targets/{webhook['id']}", world.iam_pat)).json()["target"]
    assert got["restWebhook"] == {}
    assert "restCall" not in got
    asynchronous = await create(world, {**TARGET, "name": "async", "restAsync": {}, "restCall": None})
    got = (await world.call("GET", f"/v2/actions/targets/{asynchronous['id']}", world.iam_pat)).json()["target"]
    assert got["restAsync"] == {}


# Bad requests are checked in one world per engine (a world costs seconds on a busy PostgreSQL).
INVALID_TARGETS = [
    ({"name": ""}, "invalid CreateTargetRequest.Name"),
    ({"endpoint": "not a url"}, "Errors.Target.InvalidURL"),
    ({"endpoint": "ftp://example.com/x"}, "Errors.Target.InvalidURL"),
    ({"endpoint": "/relative"}, "Errors.Target.InvalidURL"),
    ({"endpoint": "http://example.com:99999/x"}, "Errors.Target.InvalidURL"),
    ({"timeout": None}, "Errors.Target.NoTimeout"),
    ({"timeout": "0s"}, "Errors.Target.NoTimeout"),
    ({"timeout": "271s"}, "CreateTargetRequest.Timeout"),
    ({"timeout": "ten"}, "CreateTargetRequest.Timeout"),
    ({"restCall": None}, "CreateTargetRequest.TargetType: value is required"),
    ({"restWebhook": {}}, "only one of"),
    ({"payloadType": "PAYLOAD_TYPE_JWT"}, "only PAYLOAD_TYPE_JSON is supported"),
]


@pytest.mark.rule("action_service.proto CreateTarget: name, type, endpoint and timeout (0 < t <= 270 s) are checked")
async def test_create_target_validation(world: World) -> None:
    for change, message in INVALID_TARGETS:
        body = {k: v for k, v in {**TARGET, **change}.items() if v is not None}
        response = await world.call("POST", "/v2/actions/targets", world.iam_pat, json=body)
        status, code, text = error_of(response)
        assert (status, code) == (400, 3), (change, response.text)
        assert message in text, change
    assert await count_rows(world.services.store, t.targets) == 0


@pytest.mark.rule("Errors.Target.AlreadyExists: target names are unique in the instance")
async def test_duplicate_name(world: World) -> None:
    await create(world)
    response = await world.call("POST", "/v2/actions/targets", world.iam_pat, json=TARGET)
    assert error_of(response)[:2] == (409, 6)


@pytest.mark.rule("action_service.proto UpdateTarget: POST, partial; expirationSigningKey 0s makes a new key")
async def test_update_target(world: World) -> None:
    created = await create(world)
    path = f"/v2/actions/targets/{created['id']}"
    changed = await world.call("POST", path, world.iam_pat, json={"name": "crm2", "restWebhook": {}, "timeout": "5s"})
    assert changed.status_code == 200, changed.text
    assert set(changed.json()) == {"changeDate"}  # no new key unless asked
    target = (await world.call("GET", path, world.iam_pat)).json()["target"]
    assert (target["name"], target["restWebhook"], target["timeout"], target["endpoint"]) == \
        ("crm2", {}, "5s", TARGET["endpoint"])
    assert target["signingKey"] == created["signingKey"]
    rotated = (await world.call("POST", path, world.iam_pat, json={"expirationSigningKey": "0s"})).json()
    assert rotated["signingKey"] not in ("", created["signingKey"])
    assert (await world.call("GET", path, world.iam_pat)).json()["target"]["signingKey"] == rotated["signingKey"]
    bad = await world.call("POST", path, world.iam_pat, json={"expirationSigningKey": "60s"})
    assert error_of(bad)[:2] == (400, 3)
    bad = await world.call("POST", path, world.iam_pat, json={"timeout": "0s"})
    assert error_of(bad)[:2] == (400, 3)
    missing = await world.call("POST", "/v2/actions/targets/404", world.iam_pat, json={"name": "x"})
    assert error_of(missing)[:2] == (404, 5)


@pytest.mark.rule("action_service.proto DeleteTarget: the target leaves its executions; an unknown id is no error")
async def test_delete_target(world: World) -> None:
    one, two = await create(world), await create(world, {**TARGET, "name": "two"})
    put = await world.call("PUT", "/v2/actions/executions", world.iam_pat, json={
        "condition": {"function": {"name": "preuserinfo"}}, "targets": [one["id"], two["id"]]})
    assert put.status_code == 200, put.text
    deleted = await world.call("DELETE", f"/v2/actions/targets/{one['id']}", world.iam_pat)
    assert deleted.status_code == 200
    assert "deletionDate" in deleted.json()
    again = await world.call("DELETE", f"/v2/actions/targets/{one['id']}", world.iam_pat)
    assert again.status_code == 200
    assert again.json() == {}
    assert error_of(await world.call("GET", f"/v2/actions/targets/{one['id']}", world.iam_pat))[:2] == (404, 5)
    listed = (await world.call("POST", "/v2/actions/executions/search", world.iam_pat, json={})).json()
    assert listed["executions"][0]["targets"] == [two["id"]]


@pytest.mark.rule("action_service.proto ListTargets: pagination, name and id filters; v2beta details/result")
async def test_list_targets(world: World) -> None:
    ids = [(await create(world, {**TARGET, "name": name}))["id"] for name in ("alpha", "beta", "gamma")]
    everything = (await world.call("POST", "/v2/actions/targets/search", world.iam_pat, json={})).json()
    assert everything["pagination"]["totalResult"] == "3"
    assert {x["id"] for x in everything["targets"]} == set(ids)
    assert all(x["signingKey"] for x in everything["targets"])
    by_name = (await world.call("POST", "/v2/actions/targets/search", world.iam_pat, json={
        "filters": [{"targetNameFilter": {"targetName": "ALP",
                                          "method": "TEXT_FILTER_METHOD_STARTS_WITH_IGNORE_CASE"}}],
    })).json()
    assert [x["name"] for x in by_name["targets"]] == ["alpha"]
    paged = (await world.call("POST", "/v2/actions/targets/search", world.iam_pat, json={
        "pagination": {"limit": 2, "asc": True}, "sortingColumn": "TARGET_FIELD_NAME_NAME",
        "filters": [{"inTargetIdsFilter": {"targetIds": ids}}],
    })).json()
    assert [x["name"] for x in paged["targets"]] == ["alpha", "beta"]
    assert paged["pagination"] == {"totalResult": "3", "appliedLimit": "2"}
    beta = (await world.call("POST", "/v2beta/actions/targets/search", world.iam_pat, json={
        "query": {"limit": 1, "asc": True}, "sortingColumn": "TARGET_FIELD_NAME_NAME"})).json()
    assert [x["name"] for x in beta["result"]] == ["alpha"]
    assert beta["details"]["totalResult"] == "3"


@pytest.mark.rule("action_service.proto SetExecution/ListExecutions: conditions stored by id, listed back in kind")
async def test_executions(world: World) -> None:
    target = await create(world)
    conditions = [
        {"function": {"name": "preaccesstoken"}},
        {"request": {"method": "/zitadel.session.v2.SessionService/GetSession"}},
        {"response": {"service": "zitadel.user.v2.UserService"}},
        {"request": {"all": True}},
        {"event": {"group": "user.human"}},
        {"event": {"event": "user.human.added"}},
    ]
    for condition in conditions:
        put = await world.call("PUT", "/v2/actions/executions", world.iam_pat,
                               json={"condition": condition, "targets": [target["id"]]})
        assert put.status_code == 200, (condition, put.text)
        assert set(put.json()) == {"setDate"}
    listed = (await world.call("POST", "/v2/actions/executions/search", world.iam_pat, json={
        "pagination": {"asc": True}})).json()
    assert [x["condition"] for x in listed["executions"]] == conditions
    assert listed["executions"][0]["targets"] == [target["id"]]
    only = (await world.call("POST", "/v2/actions/executions/search", world.iam_pat, json={
        "filters": [{"executionTypeFilter": {"executionType": "EXECUTION_TYPE_FUNCTION"}}]})).json()
    assert [x["condition"] for x in only["executions"]] == [{"function": {"name": "preaccesstoken"}}]
    by_condition = (await world.call("POST", "/v2/actions/executions/search", world.iam_pat, json={
        "filters": [{"inConditionsFilter": {"conditions": [{"event": {"group": "user.human"}}]}}]})).json()
    assert by_condition["pagination"]["totalResult"] == "1"
    none = (await world.call("POST", "/v2/actions/executions/search", world.iam_pat, json={
        "filters": [{"targetFilter": {"targetId": "nope"}}]})).json()
    assert none.get("executions", []) == []
    beta = (await world.call("POST", "/v2beta/actions/executions/search", world.iam_pat, json={
        "query": {"limit": 1, "asc": True}})).json()
    assert beta["result"][0]["targets"] == [{"target": target["id"]}]
    beta_put = await world.call("PUT", "/v2beta/actions/executions", world.iam_pat, json={
        "condition": {"function": {"name": "preuserinfo"}}, "targets": [{"target": target["id"]}]})
    assert beta_put.status_code == 200, beta_put.text
    async with world.services.store.read() as conn:
        sealer = target_store.sealer(world.services.master)
        [armed] = await target_store.targets_for(conn, sealer, "function/preuserinfo")
    assert armed.signing_key == target["signingKey"]
    cleared = await world.call("PUT", "/v2/actions/executions", world.iam_pat, json={
        "condition": {"function": {"name": "preuserinfo"}}, "targets": []})
    assert cleared.status_code == 200
    assert await count_rows(world.services.store, t.executions) == len(conditions)


INVALID_EXECUTIONS = [
    ({"condition": {"function": {"name": "preuserinfo"}}, "targets": ["404"]}, (404, 5)),
    ({"condition": {"function": {"name": "postlogin"}}, "targets": []}, (400, 3)),
    ({"condition": {"request": {"method": "/no.such.Service/Nope"}}}, (400, 3)),
    ({"condition": {"request": {"service": "no.such.Service"}}}, (400, 3)),
    ({"condition": {"request": {}}}, (400, 3)),
    ({"condition": {}}, (400, 3)),
    ({"targets": []}, (400, 3)),
    ({"condition": {"function": {"name": "preuserinfo"}, "event": {"all": True}}}, (400, 3)),
    ({"condition": {"function": {"name": "preuserinfo"}}, "targets": [{"include": "x"}]}, (400, 3)),
]


@pytest.mark.rule("action_service.proto SetExecution: unknown targets, functions and methods are refused")
async def test_set_execution_errors(world: World) -> None:
    for body, expected in INVALID_EXECUTIONS:
        response = await world.call("PUT", "/v2/actions/executions", world.iam_pat, json=body)
        assert error_of(response)[:2] == expected, (body, response.text)
    assert await count_rows(world.services.store, t.executions) == 0


@pytest.mark.rule("action_service.proto ListExecutionFunctions/Methods/Services")
async def test_list_functions_methods_services(world: World) -> None:
    functions = (await world.call("GET", "/v2/actions/executions/functions", world.iam_pat)).json()
    assert functions == {"functions": ["preuserinfo", "preaccesstoken", "presamlresponse"]}
    methods = (await world.call("GET", "/v2/actions/executions/methods", world.iam_pat)).json()["methods"]
    assert "/zitadel.action.v2.ActionService/CreateTarget" in methods
    assert "/zitadel.management.v1.ManagementService/AddHumanUser" in methods or \
        "/zitadel.management.v1.ManagementService/ImportHumanUser" in methods
    services = (await world.call("GET", "/v2beta/actions/executions/services", world.iam_pat)).json()["services"]
    assert "zitadel.session.v2.SessionService" in services


GUARDED = [
    ("POST", "/v2/actions/targets", TARGET),
    ("POST", "/v2/actions/targets/search", {}),
    ("GET", "/v2/actions/targets/1", None),
    ("DELETE", "/v2/actions/targets/1", None),
    ("PUT", "/v2/actions/executions", {"condition": {"function": {"name": "preuserinfo"}}}),
    ("POST", "/v2/actions/executions/search", {}),
    ("POST", "/v2beta/actions/targets", TARGET),
]


@pytest.mark.rule("cmd/defaults.yaml: action.target.* and action.execution.* belong to IAM_OWNER only")
async def test_permissions(world: World) -> None:
    for method, path, body in GUARDED:
        assert error_of(await world.call(method, path, world.owner, json=body))[:2] == (403, 7), path
        assert (await world.call(method, path, None, json=body)).status_code == 401, path
    assert await count_rows(world.services.store, t.targets) == 0


@pytest.mark.rule("Connect: the v2 action service is served as zitadel.action.v2.ActionService too")
async def test_connect(world: World) -> None:
    response = await world.client.post("/zitadel.action.v2.ActionService/CreateTarget", json=TARGET,
                                       headers={"authorization": f"Bearer {world.iam_pat}"})
    assert response.status_code == 200, response.text
    assert response.json()["signingKey"]
