"""Users through the management API (spec/management-api.md §5.1, §5.2)."""

from __future__ import annotations

import pytest

from tests.api.conftest import World, error_of
from tests.factories import events_after, latest_sequence

HUMAN = {
    "userName": "wile.e",
    "profile": {"firstName": "Wile", "lastName": "Coyote", "nickName": "W", "preferredLanguage": "en",
                "gender": "GENDER_MALE"},
    "email": {"email": "wile@acme.com", "isEmailVerified": True},
    "phone": {"phone": "+41791234567"},
    "initialPassword": "Secr3tP4ssw0rd!",
}


@pytest.mark.rule("spec/management-api.md §5.1 AddHumanUser: `{userId, details}`, event in the same transaction")
async def test_add_human_user_then_get_it(world: World) -> None:
    before = await latest_sequence(world.services.store)
    added = await world.call("POST", "/management/v1/users/human", world.owner, json=HUMAN)
    assert added.status_code == 200
    body = added.json()
    assert body["details"]["resourceOwner"] == world.acme.id
    assert "creationDate" in body["details"]
    assert "changeDate" not in body["details"]
    events = await events_after(world.services.store, before, aggregate_id=body["userId"])
    assert events[0].event_type == "user.human.added"
    assert body["details"]["sequence"] == str(events[0].sequence)
    got = (await world.call("GET", f"/management/v1/users/{body['userId']}", world.owner)).json()["user"]
    assert got["state"] == "USER_STATE_ACTIVE"
    assert got["userName"] == "wile.e"
    assert got["preferredLoginName"] == "wile.e@acme.localhost"
    assert got["loginNames"] == ["wile.e@acme.localhost"]
    assert got["human"]["profile"] == {"firstName": "Wile", "lastName": "Coyote", "nickName": "W",
                                       "displayName": "Wile Coyote", "preferredLanguage": "en",
                                       "gender": "GENDER_MALE"}
    assert got["human"]["email"] == {"email": "wile@acme.com", "isEmailVerified": True}
    assert got["human"]["phone"] == {"phone": "+41791234567"}
    assert "machine" not in got


@pytest.mark.rule("spec/management-api.md §5.1: without password and verified e-mail the user is INITIAL")
async def test_add_human_without_password_is_initial(world: World) -> None:
    body = {**HUMAN, "initialPassword": "", "email": {"email": "x@acme.com"}}
    added = await world.call("POST", "/management/v1/users/human", world.owner, json=body)
    got = await world.call("GET", f"/management/v1/users/{added.json()['userId']}", world.owner)
    assert got.json()["user"]["state"] == "USER_STATE_INITIAL"


REJECTED: list[tuple[dict[str, object], int, int, str]] = [
    ({"userName": ""}, 400, 3, "invalid AddHumanUserRequest.UserName: value length must be between 1 and 200"),
    ({"profile": {"lastName": "C"}}, 400, 3, "invalid AddHumanUserRequest.Profile.FirstName: value is required"),
    ({"email": None}, 400, 3, "invalid AddHumanUserRequest.Email"),
    ({"profile": {**HUMAN["profile"], "gender": "GENDER_ROBOT"}}, 400, 3, "invalid AddHumanUserRequest.Profile.Gender"),
    ({"initialPassword": "short"}, 400, 3, "Password is too short"),
    ({"email": {"email": "not-an-email"}}, 400, 3, "Email"),
    ({"phone": {"phone": "0791234567"}}, 400, 3, "Phone"),
    ({"userName": "road.runner"}, 409, 6, "Username already taken"),
]


@pytest.mark.rule("spec/management-api.md §5.1: validate.rules violations name the field; duplicates 409; "
                  "password complexity INVALID_ARGUMENT")
async def test_add_human_rejections(world: World) -> None:
    for change, status, code, text in REJECTED:
        response = await world.call("POST", "/management/v1/users/human", world.owner, json={**HUMAN, **change})
        got_status, got_code, message = error_of(response)
        assert (got_status, got_code) == (status, code), change
        assert text in message, message


async def test_import_human_with_password_change_required(world: World) -> None:
    body = {**HUMAN, "userName": "imported", "password": "Secr3tP4ssw0rd!", "passwordChangeRequired": True}
    body.pop("initialPassword")
    imported = await world.call("POST", "/management/v1/users/human/_import", world.iam_pat, json=body,
                                org=world.acme.id)
    assert imported.status_code == 200
    got = await world.call("GET", f"/management/v1/users/{imported.json()['userId']}", world.owner)
    assert got.json()["user"]["state"] == "USER_STATE_ACTIVE"
    assert "passwordChanged" in got.json()["user"]["human"]


@pytest.mark.rule("spec/management-api.md §5.2 AddMachineUser")
async def test_add_machine_user(world: World) -> None:
    added = await world.call("POST", "/management/v1/users/machine", world.owner,
                             json={"userName": "bot", "name": "Bot", "description": "d",
                                   "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"})
    got = (await world.call("GET", f"/management/v1/users/{added.json()['userId']}", world.owner)).json()["user"]
    assert got["machine"] == {"name": "Bot", "description": "d", "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}
    assert "human" not in got
    bad = await world.call("POST", "/management/v1/users/machine", world.owner, json={"userName": "bot2"})
    assert error_of(bad)[2] == "invalid AddMachineUserRequest.Name: value is required"


@pytest.mark.rule("spec/management-api.md §3: list shape, queries, sorting echoed, paging")
async def test_list_users_with_queries_sorting_and_paging(world: World) -> None:
    for name in ("alpha", "beta", "gamma"):
        await world.call("POST", "/management/v1/users/human", world.owner,
                         json={**HUMAN, "userName": name, "email": {"email": f"{name}@acme.com"}})
    found = await world.call("POST", "/management/v1/users/_search", world.owner, json={
        "query": {"limit": 2, "asc": False}, "sortingColumn": "USER_FIELD_NAME_USER_NAME",
        "queries": [{"typeQuery": {"type": "TYPE_HUMAN"}},
                    {"notQuery": {"query": {"userNameQuery": {"userName": "road", "method": 2}}}}],
    })
    body = found.json()
    assert body["sortingColumn"] == "USER_FIELD_NAME_USER_NAME"
    assert body["details"]["totalResult"] == "3"
    assert [u["userName"] for u in body["result"]] == ["gamma", "beta"]
    by_login = await world.call("POST", "/management/v1/users/_search", world.owner, json={
        "queries": [{"orQuery": {"queries": [{"loginNameQuery": {"loginName": "alpha@acme.localhost"}},
                                             {"emailQuery": {"emailAddress": "BETA@", "method":
                                                             "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]}}]})
    assert sorted(u["userName"] for u in by_login.json()["result"]) == ["alpha", "beta"]
    other = await world.call("POST", "/management/v1/users/_search", world.owner,
                             json={"queries": [{"userNameQuery": {"userName": "coyote"}}]})
    assert "totalResult" not in other.json()["details"]  # zero values are omitted (protojson)
    assert "result" not in other.json()


@pytest.mark.rule("spec/management-api.md §5.1: deactivate, reactivate, lock, unlock, remove; domain state rules")
async def test_user_state_changes(world: World) -> None:
    base = f"/management/v1/users/{world.user.id}"
    for action, state in [("_deactivate", "USER_STATE_INACTIVE"), ("_reactivate", "USER_STATE_ACTIVE"),
                          ("_lock", "USER_STATE_LOCKED"), ("_unlock", "USER_STATE_ACTIVE")]:
        response = await world.call("POST", base + "/" + action, world.owner, json={})
        assert response.status_code == 200, action
        assert (await world.call("GET", base, world.owner)).json()["user"]["state"] == state
    assert error_of(await world.call("POST", base + "/_unlock", world.owner, json={}))[:2] == (400, 9)
    assert error_of(await world.call("POST", base + "/_reactivate", world.owner, json={}))[:2] == (400, 9)
    removed = await world.call("DELETE", base, world.owner)
    assert removed.status_code == 200
    assert error_of(await world.call("GET", base, world.owner))[:2] == (404, 5)
    assert error_of(await world.call("DELETE", base, world.owner))[:2] == (400, 9)


async def test_users_of_another_org_are_invisible(world: World) -> None:
    base = f"/management/v1/users/{world.other_user.id}"
    assert error_of(await world.call("GET", base, world.owner)) == (404, 5, "User could not be found (QUERY-Dfbg2)")
    assert error_of(await world.call("POST", base + "/_lock", world.owner, json={}))[:2] == (400, 9)
    assert error_of(await world.call("DELETE", base, world.owner))[:2] == (400, 9)


async def test_is_user_unique(world: World) -> None:
    base = "/management/v1/users/_is_unique"
    assert (await world.call("GET", base + "?userName=road.runner", world.owner)).json() == {}
    assert (await world.call("GET", base + "?userName=Nobody", world.owner)).json() == {"isUnique": True}
    assert (await world.call("GET", base + "?email=road.runner@example.com", world.owner)).json() == {}
    assert (await world.call("GET", base + "?userName=coyote", world.owner)).json() == {"isUnique": True}
