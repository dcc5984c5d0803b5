"""Members of the organization, of projects, of project grants and of the instance through the API
(spec/roles-and-permissions.md §1, §3), on both databases; memberships made here decide later calls."""

from __future__ import annotations

import pytest

from tests.api.calls import MGMT, add_project, expect_error, machine_pat, ok
from tests.api.conftest import World
from tests.factories import events_after, latest_sequence

ADMIN = "/admin/v1"


@pytest.mark.rule("spec/roles-and-permissions.md §1: org members (ORG_* roles), list, add, update, remove, the "
                  "role list; a member's roles decide its calls")
async def test_org_members(world: World) -> None:
    roles = ok(await world.call("POST", f"{MGMT}/orgs/members/roles/_search", world.owner, json={}))["result"]
    assert "ORG_OWNER" in roles
    assert "SELF_MANAGEMENT_GLOBAL" in roles
    assert not [r for r in roles if r.startswith(("IAM_", "PROJECT_"))]
    base = f"{MGMT}/orgs/me/members"
    user_id, pat = await machine_pat(world)
    before = await latest_sequence(world.services.store)
    added = ok(await world.call("POST", base, world.owner, json={"userId": user_id, "roles": ["ORG_OWNER_VIEWER"]}))
    assert [e.event_type for e in await events_after(world.services.store, before)] == ["org.member.added"]
    assert added["details"]["resourceOwner"] == world.acme.id
    assert ok(await world.call("POST", f"{MGMT}/projects/_search", pat, json={}))  # project.read now
    expect_error(await world.call("POST", f"{MGMT}/projects", pat, json={"name": "P"}), 403, 7)
    for body, status, code, text in [
        ({"userId": user_id, "roles": ["ORG_OWNER"]}, 409, 6, "Member already exists"),
        ({"userId": world.user.id, "roles": ["IAM_OWNER"]}, 400, 3, "is not valid here"),
        ({"userId": world.user.id, "roles": []}, 400, 3, "must not be empty"),
        ({"userId": "404", "roles": ["ORG_OWNER"]}, 400, 9, "User could not be found"),
        ({"roles": ["ORG_OWNER"]}, 400, 3, "invalid AddOrgMemberRequest.UserId: value is required"),
    ]:
        expect_error(await world.call("POST", base, world.owner, json=body), status, code, text)

    found = ok(await world.call("POST", base + "/_search", world.owner, json={
        "queries": [{"userIdQuery": {"userId": user_id}}]}))["result"]
    assert [(m["userId"], m["roles"], m["userType"]) for m in found] == [(user_id, ["ORG_OWNER_VIEWER"],
                                                                          "TYPE_MACHINE")]
    assert found[0]["details"]["resourceOwner"] == world.acme.id
    assert found[0]["preferredLoginName"]
    everyone = ok(await world.call("POST", base + "/_search", world.owner, json={}))
    assert everyone["details"]["totalResult"] == "3"  # owner, weak and the new one

    ok(await world.call("PUT", f"{base}/{user_id}", world.owner, json={"roles": ["ORG_OWNER"]}))
    ok(await world.call("POST", f"{MGMT}/projects", pat, json={"name": "P"}))  # project.create now
    before = await latest_sequence(world.services.store)
    ok(await world.call("PUT", f"{base}/{user_id}", world.owner, json={"roles": ["ORG_OWNER"]}))
    assert await events_after(world.services.store, before) == []  # same roles: nothing written (v4)
    expect_error(await world.call("PUT", f"{base}/{world.user.id}", world.owner, json={"roles": ["ORG_OWNER"]}),
                 404, 5, "Member not found")
    ok(await world.call("DELETE", f"{base}/{user_id}", world.owner))
    expect_error(await world.call("POST", f"{MGMT}/projects/_search", pat, json={}), 404, 5, "membership not found")
    before = await latest_sequence(world.services.store)
    again = ok(await world.call("DELETE", f"{base}/{user_id}", world.owner))
    assert again["details"] == {"resourceOwner": world.acme.id}  # ZITADEL v4: not a member, nothing written
    assert await events_after(world.services.store, before) == []

    for method, path, body in [("POST", base + "/_search", {}), ("POST", base, {"userId": user_id, "roles": ["X"]}),
                               ("PUT", f"{base}/{user_id}", {"roles": ["ORG_OWNER"]}),
                               ("DELETE", f"{base}/{user_id}", None)]:
        expect_error(await world.call(method, path, json=body), 401, 16)
        expect_error(await world.call(method, path, world.weak, json=body), 403, 7)
        expect_error(await world.call(method, path, world.other_owner, json=body, org=world.acme.id), 404, 5,
                     "membership not found")
    theirs = ok(await world.call("POST", base + "/_search", world.other_owner, json={}))
    assert theirs["details"]["totalResult"] == "1"  # only Other's own owner


@pytest.mark.rule("spec/roles-and-permissions.md §1, §2: project members (PROJECT_* roles) act on their project; "
                  "project grant members (PROJECT_GRANT_* roles)")
async def test_project_and_project_grant_members(world: World) -> None:
    pid = await add_project(world, "Portal")
    base = f"{MGMT}/projects/{pid}/members"
    roles = ok(await world.call("POST", f"{MGMT}/projects/members/roles/_search", world.owner, json={}))["result"]
    assert "PROJECT_OWNER" in roles
    assert not [r for r in roles if r.startswith(("PROJECT_GRANT_", "ORG_"))]
    user_id, pat = await machine_pat(world)
    expect_error(await world.call("POST", base, world.owner, json={"userId": user_id, "roles": ["ORG_OWNER"]}),
                 400, 3)
    expect_error(await world.call("POST", base, world.owner, json={"userId": user_id,
                                                                    "roles": ["PROJECT_GRANT_OWNER"]}), 400, 3)
    ok(await world.call("POST", base, world.owner, json={"userId": user_id, "roles": ["PROJECT_OWNER"]}))
    expect_error(await world.call("POST", base, world.owner, json={"userId": user_id, "roles": ["PROJECT_OWNER"]}),
                 409, 6)
    ok(await world.call("POST", f"{MGMT}/projects/{pid}/roles", pat, json={"roleKey": "r", "displayName": "R"}))
    listed = ok(await world.call("POST", base + "/_search", pat, json={}))["result"]
    assert [(m["userId"], m["roles"]) for m in listed] == [(user_id, ["PROJECT_OWNER"])]
    ok(await world.call("PUT", f"{base}/{user_id}", world.owner, json={"roles": ["PROJECT_OWNER_VIEWER"]}))
    expect_error(await world.call("POST", f"{MGMT}/projects/{pid}/roles", pat, json={"roleKey": "s",
                                                                                      "displayName": "S"}), 403, 7)
    expect_error(await world.call("POST", base + "/_search", world.other_owner, json={}), 404, 5,
                 "Project not found")
    expect_error(await world.call("POST", base + "/_search", json={}), 401, 16)
    expect_error(await world.call("POST", base + "/_search", world.weak, json={}), 403, 7)
    ok(await world.call("DELETE", f"{base}/{user_id}", world.owner))
    assert "result" not in ok(await world.call("POST", base + "/_search", world.owner, json={}))

    gid = ok(await world.call("POST", f"{MGMT}/projects/{pid}/grants", world.owner,
                              json={"grantedOrgId": world.other.id, "roleKeys": ["admin"]}))["grantId"]
    grant_base = f"{MGMT}/projects/{pid}/grants/{gid}/members"
    grant_roles = ok(await world.call("POST", f"{MGMT}/projects/grants/members/roles/_search", world.owner,
                                      json={}))["result"]
    assert sorted(grant_roles) == ["PROJECT_GRANT_OWNER", "PROJECT_GRANT_OWNER_VIEWER"]
    expect_error(await world.call("POST", grant_base, world.owner, json={"userId": world.other_user.id,
                                                                          "roles": ["PROJECT_OWNER"]}), 400, 3)
    ok(await world.call("POST", grant_base, world.owner, json={"userId": world.other_user.id,
                                                                "roles": ["PROJECT_GRANT_OWNER"]}))
    members = ok(await world.call("POST", grant_base + "/_search", world.owner, json={}))["result"]
    assert [(m["userId"], m["details"]["resourceOwner"]) for m in members] == [(world.other_user.id, world.other.id)]
    expect_error(await world.call("POST", grant_base + "/_search", world.other_owner, json={}), 404, 5)
    ok(await world.call("PUT", f"{grant_base}/{world.other_user.id}", world.owner,
                        json={"roles": ["PROJECT_GRANT_OWNER_VIEWER"]}))
    ok(await world.call("DELETE", f"{grant_base}/{world.other_user.id}", world.owner))
    expect_error(await world.call("POST", f"{MGMT}/projects/{pid}/grants/404/members/_search", world.owner,
                                  json={}), 404, 5, "Grant not found")


@pytest.mark.rule("spec/roles-and-permissions.md §1: instance members under /admin/v1/members (IAM_* roles, "
                  "iam.member.*); an instance membership counts in every organization")
async def test_instance_members(world: World) -> None:
    roles = ok(await world.call("POST", f"{ADMIN}/members/roles/_search", world.iam_pat, json={}))["result"]
    assert "IAM_OWNER" in roles
    assert not [r for r in roles if not r.startswith("IAM_")]
    first = ok(await world.call("POST", f"{ADMIN}/members/_search", world.iam_pat, json={}))["result"]
    assert {(m["userType"], tuple(m["roles"])) for m in first} == {  # the first start's admin and machine user
        ("TYPE_HUMAN", ("IAM_OWNER",)), ("TYPE_MACHINE", ("IAM_OWNER",))}
    user_id, pat = await machine_pat(world)
    expect_error(await world.call("POST", f"{ADMIN}/members", world.iam_pat,
                                  json={"userId": user_id, "roles": ["ORG_OWNER"]}), 400, 3)
    before = await latest_sequence(world.services.store)
    ok(await world.call("POST", f"{ADMIN}/members", world.iam_pat, json={"userId": user_id,
                                                                          "roles": ["IAM_ORG_MANAGER"]}))
    assert [e.event_type for e in await events_after(world.services.store, before)] == ["instance.member.added"]
    theirs = await add_project(world, "Theirs", roles=(), token=world.other_owner)
    got = ok(await world.call("GET", f"{MGMT}/projects/{theirs}", pat, org=world.other.id))
    assert got["project"]["name"] == "Theirs"
    ok(await world.call("PUT", f"{ADMIN}/members/{user_id}", world.iam_pat, json={"roles": ["IAM_OWNER_VIEWER"]}))
    expect_error(await world.call("POST", f"{MGMT}/projects", pat, json={"name": "x"}, org=world.other.id), 403, 7)
    for token, status, code in [(None, 401, 16), (world.owner, 403, 7)]:
        expect_error(await world.call("POST", f"{ADMIN}/members/_search", token, json={}), status, code)
        expect_error(await world.call("POST", f"{ADMIN}/members", token,
                                      json={"userId": world.user.id, "roles": ["IAM_OWNER"]}), status, code)
    ok(await world.call("DELETE", f"{ADMIN}/members/{user_id}", world.iam_pat))
    expect_error(await world.call("GET", f"{MGMT}/projects/{theirs}", pat, org=world.other.id), 404, 5,
                 "membership not found")
