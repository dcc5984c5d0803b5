"""Project grants and user grants through the management API (spec/management-api.md §8), on both
databases: the owner's side, the granted organization's side, ZITADEL's role-key rules."""

from __future__ import annotations

import pytest

from tests.api.calls import MGMT, add_project, expect_error, machine_pat, ok, project_owner
from tests.api.conftest import World
from tests.factories import events_after, latest_sequence


@pytest.mark.rule("spec/management-api.md §8: AddProjectGrant with a subset of role keys; the granted "
                  "organization lists it and gives only those keys; changes cascade to its user grants; a change that "
                  "changes nothing writes nothing (ZITADEL v4 ChangeProjectGrant, Deactivate/ReactivateProjectGrant)")
async def test_project_grants_both_sides(world: World) -> None:
    pid = await add_project(world, "Portal", roles=("admin", "user", "viewer"))
    base = f"{MGMT}/projects/{pid}/grants"
    before = await latest_sequence(world.services.store)
    added = ok(await world.call("POST", base, world.owner, json={"grantedOrgId": world.other.id,
                                                                  "roleKeys": ["admin", "user"]}))
    assert [e.event_type for e in await events_after(world.services.store, before)] == ["project.grant.added"]
    gid = added["grantId"]
    assert added["details"]["resourceOwner"] == world.acme.id
    expect_error(await world.call("POST", base, world.owner, json={"grantedOrgId": world.other.id}), 409, 6,
                 "Grant already exists")
    expect_error(await world.call("POST", base, world.owner, json={"grantedOrgId": world.instance.default_org_id,
                                                                    "roleKeys": ["nope"]}), 400, 9, "Role not found")
    expect_error(await world.call("POST", base, world.owner, json={"grantedOrgId": world.acme.id}), 400, 9,
                 "cannot be granted to its own organization")
    expect_error(await world.call("POST", base, world.owner, json={"grantedOrgId": "404"}), 400, 9,
                 "Organisation not found")
    expect_error(await world.call("POST", base, world.owner, json={}), 400, 3,
                 "invalid AddProjectGrantRequest.GrantedOrgId: value is required")

    grant = ok(await world.call("GET", f"{base}/{gid}", world.owner))["projectGrant"]
    assert grant["grantedOrgId"] == world.other.id
    assert grant["grantedOrgName"] == "Other"
    assert grant["grantedRoleKeys"] == ["admin", "user"]
    assert grant["state"] == "PROJECT_GRANT_STATE_ACTIVE"
    assert grant["projectName"] == "Portal"
    assert grant["projectOwnerId"] == world.acme.id
    with_admin = ok(await world.call("POST", base + "/_search", world.owner,
                                     json={"queries": [{"roleKeyQuery": {"roleKey": "admin"}}]}))
    assert [g["grantId"] for g in with_admin["result"]] == [gid]
    with_viewer = ok(await world.call("POST", base + "/_search", world.owner,
                                      json={"queries": [{"roleKeyQuery": {"roleKey": "viewer"}}]}))
    assert "result" not in with_viewer  # an empty list and totalResult 0 are omitted
    everything = ok(await world.call("POST", f"{MGMT}/projectgrants/_search", world.owner, json={}))
    assert [g["grantId"] for g in everything["result"]] == [gid]
    expect_error(await world.call("GET", f"{base}/{gid}", world.other_owner), 404, 5)  # not the owner

    granted = ok(await world.call("POST", f"{MGMT}/granted_projects/_search", world.other_owner, json={}))
    assert [(g["projectId"], g["projectOwnerName"]) for g in granted["result"]] == [(pid, "ACME")]
    one = ok(await world.call("GET", f"{MGMT}/granted_projects/{pid}/grants/{gid}", world.other_owner))
    assert one["grantedProject"]["grantedRoleKeys"] == ["admin", "user"]
    roles = ok(await world.call("POST", f"{MGMT}/granted_projects/{pid}/grants/{gid}/roles/_search",
                                world.other_owner, json={}))
    assert [r["key"] for r in roles["result"]] == ["admin", "user"]
    expect_error(await world.call("GET", f"{MGMT}/granted_projects/{pid}/grants/{gid}", world.owner), 404, 5)

    user_grants = f"{MGMT}/users/{world.other_user.id}/grants"
    expect_error(await world.call("POST", user_grants, world.other_owner, json={
        "projectId": pid, "roleKeys": ["viewer"]}), 400, 9, "Role not found")  # not in the project grant
    ugid = ok(await world.call("POST", user_grants, world.other_owner, json={
        "projectId": pid, "projectGrantId": gid, "roleKeys": ["user", "admin"]}))["userGrantId"]
    mine = ok(await world.call("POST", f"{MGMT}/users/grants/_search", world.other_owner, json={}))["result"]
    assert [(g["id"], g["projectGrantId"], g["orgId"]) for g in mine] == [(ugid, gid, world.other.id)]
    assert "result" not in ok(await world.call("POST", f"{MGMT}/users/grants/_search", world.owner, json={}))
    seen = ok(await world.call("POST", f"{MGMT}/users/grants/_search", world.owner,
                               json={"queries": [{"withGrantedQuery": {"withGranted": True}}]}))
    assert [g["id"] for g in seen["result"]] == [ugid]

    ok(await world.call("PUT", f"{base}/{gid}", world.owner, json={"roleKeys": ["admin"]}))
    got = ok(await world.call("GET", f"{user_grants}/{ugid}", world.other_owner))["userGrant"]
    assert got["roleKeys"] == ["admin"]  # `user` left the user grant with the project grant
    ok(await world.call("POST", f"{base}/{gid}/_deactivate", world.owner, json={}))
    state = ok(await world.call("GET", f"{base}/{gid}", world.owner))["projectGrant"]["state"]
    assert state == "PROJECT_GRANT_STATE_INACTIVE"
    before = await latest_sequence(world.services.store)
    ok(await world.call("PUT", f"{base}/{gid}", world.owner, json={"roleKeys": ["admin"]}))  # v4: as it is
    ok(await world.call("POST", f"{base}/{gid}/_deactivate", world.owner, json={}))
    assert await events_after(world.services.store, before) == []
    ok(await world.call("POST", f"{base}/{gid}/_reactivate", world.owner, json={}))
    before = await latest_sequence(world.services.store)
    ok(await world.call("POST", f"{base}/{gid}/_reactivate", world.owner, json={}))
    assert await events_after(world.services.store, before) == []
    ok(await world.call("DELETE", f"{base}/{gid}", world.owner))
    expect_error(await world.call("GET", f"{base}/{gid}", world.owner), 404, 5, "Grant not found")
    expect_error(await world.call("GET", f"{user_grants}/{ugid}", world.other_owner), 404, 5)  # went with it


@pytest.mark.rule("spec/management-api.md §8: AddUserGrant rules (role keys must exist, duplicate 409, unknown "
                  "user/project FAILED_PRECONDITION), ListUserGrants queries, update, state, remove, bulk remove")
async def test_user_grants(world: World) -> None:
    pid = await add_project(world, "Portal", roles=("admin", "user"))
    foreign = await add_project(world, "Theirs", roles=("admin",), token=world.other_owner)
    grants = f"{MGMT}/users/{world.user.id}/grants"
    before = await latest_sequence(world.services.store)
    added = ok(await world.call("POST", grants, world.owner, json={"projectId": pid, "roleKeys": ["admin"]}))
    assert [e.event_type for e in await events_after(world.services.store, before)] == ["user.grant.added"]
    assert added["details"]["resourceOwner"] == world.acme.id
    gid = added["userGrantId"]
    for body, status, code, text in [
        ({"projectId": pid, "roleKeys": ["user"]}, 409, 6, "User grant already exists"),
        ({"projectId": foreign, "roleKeys": ["admin"]}, 400, 9, "Project not found"),
        ({"projectId": "404"}, 400, 9, "Project not found"),
        ({"roleKeys": ["admin"]}, 400, 3, "invalid AddUserGrantRequest.ProjectId: value is required"),
    ]:
        expect_error(await world.call("POST", grants, world.owner, json=body), status, code, text)
    expect_error(await world.call("POST", f"{MGMT}/users/{world.machine.id}/grants", world.owner,
                                  json={"projectId": pid, "roleKeys": ["nope"]}), 400, 9, "Role not found")
    expect_error(await world.call("POST", f"{MGMT}/users/404/grants", world.owner,
                                  json={"projectId": pid}), 400, 9, "User could not be found")

    got = ok(await world.call("GET", f"{grants}/{gid}", world.owner))["userGrant"]
    assert got["userId"] == world.user.id
    assert got["userName"] == "road.runner"
    assert got["projectId"] == pid
    assert got["projectName"] == "Portal"
    assert got["orgId"] == world.acme.id
    assert got["orgName"] == "ACME"
    assert got["roleKeys"] == ["admin"]
    assert got["state"] == "USER_GRANT_STATE_ACTIVE"
    assert got["userType"] == "TYPE_HUMAN"
    assert got["preferredLoginName"].startswith("road.runner")
    assert "projectGrantId" not in got

    machine_gid = ok(await world.call("POST", f"{MGMT}/users/{world.machine.id}/grants", world.owner, json={
        "projectId": pid, "roleKeys": ["user"]}))["userGrantId"]
    cross_gid = ok(await world.call("POST", f"{MGMT}/users/{world.other_user.id}/grants", world.owner, json={
        "projectId": pid}))["userGrantId"]  # a user of another organization may get roles here (ZITADEL)
    search = f"{MGMT}/users/grants/_search"
    for queries, expected in [
        ([{"projectIdQuery": {"projectId": pid}}], [gid, machine_gid, cross_gid]),
        ([{"userIdQuery": {"userId": world.machine.id}}], [machine_gid]),
        ([{"roleKeyQuery": {"roleKey": "admin"}}], [gid]),
        ([{"userNameQuery": {"userName": "road", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}}], [gid]),
        ([{"userTypeQuery": {"type": "TYPE_MACHINE"}}], [machine_gid]),
        ([{"projectNameQuery": {"projectName": "nope"}}], []),
    ]:
        found = ok(await world.call("POST", search, world.owner, json={"queries": queries}))
        assert [g["id"] for g in found.get("result", [])] == expected, queries
    page = ok(await world.call("POST", search, world.owner, json={"query": {"limit": 1, "offset": "1"}}))
    assert page["details"]["totalResult"] == "3"
    assert [g["id"] for g in page["result"]] == [machine_gid]

    ok(await world.call("PUT", f"{grants}/{gid}", world.owner, json={"roleKeys": ["admin", "user"]}))
    expect_error(await world.call("PUT", f"{grants}/{gid}", world.owner, json={"roleKeys": ["admin", "user"]}),
                 400, 9, "User grant has not been changed")
    expect_error(await world.call("PUT", f"{grants}/{gid}", world.owner, json={"roleKeys": ["nope"]}), 400, 9)
    expect_error(await world.call("PUT", f"{MGMT}/users/{world.machine.id}/grants/{gid}", world.owner,
                                  json={"roleKeys": []}), 404, 5, "User grant not found")  # not that user's
    ok(await world.call("POST", f"{grants}/{gid}/_deactivate", world.owner, json={}))
    state = ok(await world.call("GET", f"{grants}/{gid}", world.owner))["userGrant"]["state"]
    assert state == "USER_GRANT_STATE_INACTIVE"
    expect_error(await world.call("POST", f"{grants}/{gid}/_deactivate", world.owner, json={}), 400, 9)
    ok(await world.call("POST", f"{grants}/{gid}/_reactivate", world.owner, json={}))
    expect_error(await world.call("POST", f"{grants}/{gid}/_reactivate", world.owner, json={}), 400, 9)
    ok(await world.call("DELETE", f"{MGMT}/projects/{pid}/roles/admin", world.owner))
    assert ok(await world.call("GET", f"{grants}/{gid}", world.owner))["userGrant"]["roleKeys"] == ["user"]

    ok(await world.call("DELETE", f"{grants}/{gid}", world.owner))
    expect_error(await world.call("DELETE", f"{grants}/{gid}", world.owner), 404, 5)
    before = await latest_sequence(world.services.store)
    expect_error(await world.call("DELETE", f"{MGMT}/user_grants/_bulk", world.owner,
                                  json={"grantId": [machine_gid, "404"]}), 404, 5)
    assert await events_after(world.services.store, before) == []  # all or nothing
    expect_error(await world.call("DELETE", f"{MGMT}/user_grants/_bulk", world.owner, json={"grantId": []}),
                 400, 3, "invalid BulkRemoveUserGrantRequest.GrantId")
    ok(await world.call("DELETE", f"{MGMT}/user_grants/_bulk", world.owner, json={"grantId": [machine_gid,
                                                                                               cross_gid]}))
    assert "result" not in ok(await world.call("POST", search, world.owner, json={}))


@pytest.mark.rule("spec/management-api.md §2, §9: 401, 403, another organization's ORG_OWNER gets 404; "
                  "a PROJECT_OWNER's user.grant.* and project.grant.* count on its project only")
async def test_who_may_call_grant_endpoints(world: World) -> None:
    pid = await add_project(world, "Portal")
    other_pid = await add_project(world, "Elsewhere")
    gid = ok(await world.call("POST", f"{MGMT}/users/{world.user.id}/grants", world.owner,
                              json={"projectId": pid, "roleKeys": ["user"]}))["userGrantId"]
    pgid = ok(await world.call("POST", f"{MGMT}/projects/{pid}/grants", world.owner,
                               json={"grantedOrgId": world.other.id}))["grantId"]
    user_grant = f"{MGMT}/users/{world.user.id}/grants/{gid}"
    calls = [
        ("GET", user_grant, None), ("PUT", user_grant, {"roleKeys": ["admin"]}),
        ("POST", user_grant + "/_deactivate", {}), ("DELETE", user_grant, None),
        ("GET", f"{MGMT}/projects/{pid}/grants/{pgid}", None),
        ("PUT", f"{MGMT}/projects/{pid}/grants/{pgid}", {"roleKeys": ["admin"]}),
        ("DELETE", f"{MGMT}/projects/{pid}/grants/{pgid}", None),
    ]
    for method, path, body in calls:
        expect_error(await world.call(method, path, json=body), 401, 16)
        expect_error(await world.call(method, path, world.weak, json=body), 403, 7)
        expect_error(await world.call(method, path, world.other_owner, json=body), 404, 5)
        expect_error(await world.call(method, path, world.other_owner, json=body, org=world.acme.id), 404, 5,
                     "membership not found")
    expect_error(await world.call("POST", f"{MGMT}/users/grants/_search", json={}), 401, 16)
    expect_error(await world.call("POST", f"{MGMT}/users/grants/_search", world.weak, json={}), 403, 7)

    owner = await project_owner(world, pid)
    ok(await world.call("PUT", user_grant, owner, json={"roleKeys": ["admin"]}))
    ok(await world.call("POST", f"{MGMT}/users/{world.machine.id}/grants", owner, json={"projectId": pid}))
    expect_error(await world.call("POST", f"{MGMT}/users/{world.machine.id}/grants", owner,
                                  json={"projectId": other_pid}), 403, 7)
    listed = ok(await world.call("POST", f"{MGMT}/users/grants/_search", owner, json={}))
    assert {g["projectId"] for g in listed["result"]} == {pid}
    ok(await world.call("GET", f"{MGMT}/projects/{pid}/grants/{pgid}", owner))
    expect_error(await world.call("POST", f"{MGMT}/projects/{other_pid}/grants", owner,
                                  json={"grantedOrgId": world.other.id}), 403, 7)

    # a PROJECT_GRANT_OWNER of the granted organization manages its users' grants through that grant only
    ok(await world.call("PUT", f"{MGMT}/projects/{pid}/grants/{pgid}", world.owner, json={"roleKeys": ["user"]}))
    other_pgid = ok(await world.call("POST", f"{MGMT}/projects/{other_pid}/grants", world.owner,
                                     json={"grantedOrgId": world.other.id, "roleKeys": ["user"]}))["grantId"]
    grant_owner_id, grant_owner = await machine_pat(world, world.other)
    ok(await world.call("POST", f"{MGMT}/projects/{pid}/grants/{pgid}/members", world.owner,
                        json={"userId": grant_owner_id, "roles": ["PROJECT_GRANT_OWNER"]}))
    theirs = ok(await world.call("POST", f"{MGMT}/users/{world.other_user.id}/grants", grant_owner,
                                 json={"projectId": pid, "roleKeys": ["user"]}))["userGrantId"]
    expect_error(await world.call("POST", f"{MGMT}/users/{world.other_user.id}/grants", grant_owner,
                                  json={"projectId": other_pid, "roleKeys": ["user"]}), 403, 7)
    ok(await world.call("POST", f"{MGMT}/users/{world.other_user.id}/grants", world.other_owner,
                        json={"projectId": other_pid, "projectGrantId": other_pgid}))
    visible = ok(await world.call("POST", f"{MGMT}/users/grants/_search", grant_owner, json={}))["result"]
    assert [g["id"] for g in visible] == [theirs]
    granted = ok(await world.call("POST", f"{MGMT}/granted_projects/_search", grant_owner, json={}))["result"]
    assert [g["grantId"] for g in granted] == [pgid]  # not the other grant to the same organization
