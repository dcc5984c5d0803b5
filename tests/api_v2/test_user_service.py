"""User service v2 (spec/api-v2.md §2): AddHumanUser, GetUserByID, ListUsers."""

from __future__ import annotations

import pytest

from bergfried.store import metadata
from tests.api_v2.conftest import V2, error_of


def _human(**extra: object) -> dict[str, object]:
    return {"profile": {"givenName": "Minnie", "familyName": "Mouse"},
            "email": {"email": "mini@mouse.com", "isVerified": True}, **extra}


@pytest.mark.rule("spec/api-v2.md §2: AddHumanUser v2 names; username absent → e-mail; organization{orgId}")
async def test_add_human_user_then_get_it_in_the_v2_shape(v2: V2) -> None:
    w = v2.w
    added = await w.call("POST", "/v2/users/human", w.iam_pat, json=_human(
        organization={"orgId": w.other.id}, password={"password": "Secr3tP4ssw0rd!", "changeRequired": True},
        metadata=[{"key": "my-key", "value": "VGhpcyBpcyBteSB0ZXN0IHZhbHVl"}]))
    assert added.status_code == 200, added.text
    user_id = added.json()["userId"]
    assert added.json()["details"]["resourceOwner"] == w.other.id
    async with w.services.store.read() as conn:
        assert await metadata.get_one(conn, user_id, "my-key") == b"This is my test value"
    got = await w.call("GET", f"/v2/users/{user_id}", w.iam_pat)
    assert got.status_code == 200, got.text
    user = got.json()["user"]
    assert user["userId"] == user_id
    assert user["username"] == "mini@mouse.com"
    assert user["state"] == "USER_STATE_ACTIVE"
    assert user["details"]["resourceOwner"] == w.other.id == got.json()["details"]["resourceOwner"]
    human = user["human"]
    assert human["profile"]["givenName"] == "Minnie"
    assert human["profile"]["familyName"] == "Mouse"
    assert human["email"] == {"email": "mini@mouse.com", "isVerified": True}
    assert human["passwordChangeRequired"] is True
    assert "firstName" not in human["profile"]
    assert "userName" not in user
    # the context organization when none is named; an ORG_OWNER may add to its own
    own = await w.call("POST", "/v2/users/human", w.owner, json=_human(username="minnie"))
    assert own.status_code == 200, own.text
    assert own.json()["details"]["resourceOwner"] == w.acme.id


async def test_add_human_user_errors(v2: V2) -> None:
    w = v2.w
    missing = await w.call("POST", "/v2/users/human", w.owner, json={"email": {"email": "a@b.c"}})
    assert error_of(missing)[:2] == (400, 3)
    assert error_of(missing)[2] == "invalid AddHumanUserRequest.Profile: value is required"
    assert error_of(await w.call("POST", "/v2/users/human", None, json=_human()))[:2] == (401, 16)
    assert error_of(await w.call("POST", "/v2/users/human", w.weak, json=_human()))[:2] == (403, 7)
    unknown_org = await w.call("POST", "/v2/users/human", w.iam_pat, json=_human(organization={"orgId": "404"}))
    assert error_of(unknown_org)[:2] == (404, 5)
    # an organization where the caller is no member at all: ZITADEL's `membership not found`
    foreign = await w.call("POST", "/v2/users/human", w.owner, json=_human(organization={"orgId": w.other.id}))
    assert error_of(foreign) == (404, 5, "membership not found (AUTHZ-cdgFk)")


async def test_get_user_by_id_errors(v2: V2) -> None:
    w = v2.w
    path = f"/v2/users/{w.user.id}"
    assert (await w.call("GET", path, w.owner)).status_code == 200
    assert error_of(await w.call("GET", path, None))[:2] == (401, 16)
    assert error_of(await w.call("GET", path, w.weak))[:2] == (403, 7)
    assert error_of(await w.call("GET", "/v2/users/123456789", w.iam_pat))[:2] == (404, 5)


@pytest.mark.rule("spec/api-v2.md §2: ListUsers covers every organization the caller may read; details.timestamp")
async def test_list_users_across_the_organizations_the_caller_may_read(v2: V2) -> None:
    w = v2.w
    everyone = await w.call("POST", "/v2/users", w.iam_pat, json={})
    assert everyone.status_code == 200
    owners = {u["details"]["resourceOwner"] for u in everyone.json()["result"]}
    assert {w.acme.id, w.other.id} <= owners
    assert "timestamp" in everyone.json()["details"]
    assert "viewTimestamp" not in everyone.json()["details"]
    acme_only = await w.call("POST", "/v2/users", w.owner, json={})
    assert {u["details"]["resourceOwner"] for u in acme_only.json()["result"]} == {w.acme.id}
    found = await w.call("POST", "/v2/users", w.iam_pat, json={"queries": [
        {"loginNameQuery": {"loginName": v2.login_name, "method": "TEXT_QUERY_METHOD_EQUALS"}}]})
    assert [u["userId"] for u in found.json()["result"]] == [v2.alice.id]
    in_other = await w.call("POST", "/v2/users", w.iam_pat, json={
        "queries": [{"organizationIdQuery": {"organizationId": w.other.id}}], "query": {"limit": 100}})
    assert {u["details"]["resourceOwner"] for u in in_other.json()["result"]} == {w.other.id}
    assert in_other.json()["details"]["totalResult"] == str(len(in_other.json()["result"]))


async def test_list_users_errors_and_a_caller_without_reading_rights_sees_nothing(v2: V2) -> None:
    w = v2.w
    assert error_of(await w.call("POST", "/v2/users", None, json={}))[:2] == (401, 16)
    bad = await w.call("POST", "/v2/users", w.iam_pat, json={"query": {"limit": "many"}})
    assert error_of(bad)[:2] == (400, 3)
    nothing = await w.call("POST", "/v2/users", w.weak, json={})  # v2 lists filter, they do not fail
    assert nothing.status_code == 200
    assert nothing.json().get("result", []) == []


async def test_openapi_lists_the_v2_calls_with_unique_operation_ids(v2: V2) -> None:
    document = (await v2.w.client.get("/openapi/v2/swagger/openapi.json")).json()
    ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert document["paths"]["/v2/sessions"]["post"]["operationId"] == "SessionService_CreateSession"
    assert "201" in document["paths"]["/v2/sessions"]["post"]["responses"]
