"""Projects and project roles through the management API (spec/management-api.md §6), on both
databases. Each test walks many calls on one world to keep the suite quick."""

from __future__ import annotations

import pytest

from tests.api.calls import MGMT, add_project, expect_error, ok, project_owner
from tests.api.conftest import World
from tests.factories import events_after, latest_sequence


@pytest.mark.rule("spec/management-api.md §6: AddProject, GetProjectByID, ListProjects, UpdateProject, "
                  "Deactivate/ReactivateProject, RemoveProject; details from the event of the same transaction; an "
                  "update that changes nothing writes nothing (ZITADEL v4 ChangeProject)")
async def test_project_lifecycle(world: World) -> None:
    before = await latest_sequence(world.services.store)
    added = ok(await world.call("POST", f"{MGMT}/projects", world.owner, json={
        "name": "Portal", "projectRoleAssertion": True, "hasProjectCheck": True,
        "privateLabelingSetting": "PRIVATE_LABELING_SETTING_ENFORCE_PROJECT_RESOURCE_OWNER_POLICY"}))
    events = await events_after(world.services.store, before)
    assert [e.event_type for e in events] == ["project.added"]
    assert added["details"]["sequence"] == str(events[0].sequence)
    assert added["details"]["resourceOwner"] == world.acme.id
    assert "creationDate" in added["details"]
    assert "changeDate" not in added["details"]
    pid = added["id"]
    project = ok(await world.call("GET", f"{MGMT}/projects/{pid}", world.owner))["project"]
    assert project["name"] == "Portal"
    assert project["state"] == "PROJECT_STATE_ACTIVE"
    assert project["projectRoleAssertion"] is True
    assert project["hasProjectCheck"] is True
    assert "projectRoleCheck" not in project  # false is omitted (protojson)
    assert project["privateLabelingSetting"] == "PRIVATE_LABELING_SETTING_ENFORCE_PROJECT_RESOURCE_OWNER_POLICY"
    assert project["details"]["resourceOwner"] == world.acme.id

    await add_project(world, "Billing", roles=())
    found = ok(await world.call("POST", f"{MGMT}/projects/_search", world.owner, json={
        "queries": [{"nameQuery": {"name": "port", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]}))
    assert [p["id"] for p in found["result"]] == [pid]
    assert found["details"]["totalResult"] == "1"
    everything = ok(await world.call("POST", f"{MGMT}/projects/_search", world.owner, json={}))
    assert [p["name"] for p in everything["result"]] == ["Portal", "Billing"]

    updated = ok(await world.call("PUT", f"{MGMT}/projects/{pid}", world.owner, json={
        "name": "Portal 2", "projectRoleCheck": True}))
    assert "changeDate" in updated["details"]
    project = ok(await world.call("GET", f"{MGMT}/projects/{pid}", world.owner))["project"]
    assert project["name"] == "Portal 2"
    assert project["projectRoleCheck"] is True
    assert "projectRoleAssertion" not in project  # UpdateProject replaces every field
    before = await latest_sequence(world.services.store)
    same = ok(await world.call("PUT", f"{MGMT}/projects/{pid}", world.owner, json={
        "name": "Portal 2", "projectRoleCheck": True}))  # ZITADEL v4: nothing changed, nothing written
    assert same["details"]["sequence"] == updated["details"]["sequence"]
    assert await events_after(world.services.store, before) == []
    expect_error(await world.call("PUT", f"{MGMT}/projects/{pid}", world.owner, json={"name": "Billing"}),
                 409, 6, "Project already exists")

    ok(await world.call("POST", f"{MGMT}/projects/{pid}/_deactivate", world.owner, json={}))
    got = ok(await world.call("GET", f"{MGMT}/projects/{pid}", world.owner))["project"]
    assert got["state"] == "PROJECT_STATE_INACTIVE"
    expect_error(await world.call("POST", f"{MGMT}/projects/{pid}/_deactivate", world.owner, json={}), 400, 9,
                 "Project is not active")
    ok(await world.call("POST", f"{MGMT}/projects/{pid}/_reactivate", world.owner, json={}))
    expect_error(await world.call("POST", f"{MGMT}/projects/{pid}/_reactivate", world.owner, json={}), 400, 9,
                 "Project is not inactive")

    removed = ok(await world.call("DELETE", f"{MGMT}/projects/{pid}", world.owner))
    assert "changeDate" in removed["details"]
    expect_error(await world.call("GET", f"{MGMT}/projects/{pid}", world.owner), 404, 5, "Project not found")
    expect_error(await world.call("DELETE", f"{MGMT}/projects/{pid}", world.owner), 404, 5, "Project not found")


@pytest.mark.rule("spec/management-api.md §6: role key 1–200 unique per project (409), displayName required, "
                  "group ≤200; the role key path segment is a catch-all")
async def test_roles(world: World) -> None:
    pid = await add_project(world, "Portal", roles=())
    base = f"{MGMT}/projects/{pid}/roles"
    ok(await world.call("POST", base, world.owner, json={"roleKey": "admin", "displayName": "Admin",
                                                          "group": "staff"}))
    ok(await world.call("POST", base + "/_bulk", world.owner, json={"roles": [
        {"key": "reader", "displayName": "Reader"}, {"key": "app/editor", "displayName": "Editor"}]}))
    expect_error(await world.call("POST", base, world.owner, json={"roleKey": "admin", "displayName": "A"}),
                 409, 6, "Role already exists")
    before = await latest_sequence(world.services.store)
    expect_error(await world.call("POST", base + "/_bulk", world.owner, json={"roles": [
        {"key": "new", "displayName": "New"}, {"key": "reader", "displayName": "Again"}]}), 409, 6)
    assert await events_after(world.services.store, before) == []  # all or nothing
    expect_error(await world.call("POST", base, world.owner, json={"roleKey": "x"}), 400, 3,
                 "invalid AddProjectRoleRequest.DisplayName: value is required")
    expect_error(await world.call("POST", base, world.owner, json={"roleKey": "k" * 201, "displayName": "K"}),
                 400, 3, "invalid AddProjectRoleRequest.RoleKey: value length must be between 1 and 200 runes")
    expect_error(await world.call("POST", base + "/_bulk", world.owner, json={"roles": []}), 400, 3,
                 "invalid BulkAddProjectRolesRequest.Roles")

    listed = ok(await world.call("POST", base + "/_search", world.owner, json={}))
    assert [r["key"] for r in listed["result"]] == ["admin", "app/editor", "reader"]
    assert listed["result"][0]["group"] == "staff"
    assert listed["result"][0]["details"]["resourceOwner"] == world.acme.id
    filtered = ok(await world.call("POST", base + "/_search", world.owner, json={"queries": [
        {"displayNameQuery": {"displayName": "edit", "method": "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE"}}]}))
    assert [r["key"] for r in filtered["result"]] == ["app/editor"]

    ok(await world.call("PUT", base + "/app/editor", world.owner, json={"displayName": "Editors", "group": "g"}))
    again = ok(await world.call("POST", base + "/_search", world.owner, json={"queries": [
        {"keyQuery": {"key": "app/editor"}}]}))
    assert again["result"][0]["displayName"] == "Editors"
    before = await latest_sequence(world.services.store)
    ok(await world.call("PUT", base + "/app/editor", world.owner, json={"displayName": "Editors", "group": "g"}))
    assert await events_after(world.services.store, before) == []  # unchanged: nothing written (v4)
    expect_error(await world.call("PUT", base + "/nope", world.owner, json={"displayName": "N"}), 404, 5)
    ok(await world.call("DELETE", base + "/app/editor", world.owner))
    before = await latest_sequence(world.services.store)
    gone = ok(await world.call("DELETE", base + "/app/editor", world.owner))  # v4: no such role, nothing to do
    assert "sequence" not in gone["details"]
    assert await events_after(world.services.store, before) == []


@pytest.mark.rule("spec/management-api.md §2, §9; spec/roles-and-permissions.md §2: 401 without token, "
                  "403 without the permission, another organization's ORG_OWNER never sees the project, "
                  "PROJECT_OWNER counts only on its project")
async def test_who_may_call(world: World) -> None:
    pid = await add_project(world, "Portal")
    other_pid = await add_project(world, "Other project", roles=())
    calls = [
        ("GET", f"/projects/{pid}", None),
        ("PUT", f"/projects/{pid}", {"name": "X"}),
        ("POST", f"/projects/{pid}/_deactivate", {}),
        ("DELETE", f"/projects/{pid}", None),
        ("POST", f"/projects/{pid}/roles", {"roleKey": "r", "displayName": "R"}),
        ("POST", f"/projects/{pid}/roles/_search", {}),
        ("PUT", f"/projects/{pid}/roles/admin", {"displayName": "A"}),
        ("DELETE", f"/projects/{pid}/roles/admin", None),
    ]
    for method, path, body in calls:
        expect_error(await world.call(method, MGMT + path, json=body), 401, 16)
        expect_error(await world.call(method, MGMT + path, world.weak, json=body), 403, 7,
                     "No matching permissions found")
        expect_error(await world.call(method, MGMT + path, world.other_owner, json=body), 404, 5,
                     "not found")  # Other's context: no such project there
        expect_error(await world.call(method, MGMT + path, world.other_owner, json=body, org=world.acme.id),
                     404, 5, "membership not found")
    expect_error(await world.call("POST", f"{MGMT}/projects", json={"name": "P"}), 401, 16)
    expect_error(await world.call("POST", f"{MGMT}/projects", world.weak, json={"name": "P"}), 403, 7)
    expect_error(await world.call("POST", f"{MGMT}/projects", world.owner, json={"name": ""}), 400, 3,
                 "invalid AddProjectRequest.Name: value length must be between 1 and 200 runes")
    expect_error(await world.call("POST", f"{MGMT}/projects", world.owner, json={"name": "Portal"}), 409, 6,
                 "Project already exists")
    others = ok(await world.call("POST", f"{MGMT}/projects/_search", world.other_owner, json={}))
    assert others.get("result", []) == []

    owner = await project_owner(world, pid)
    assert ok(await world.call("GET", f"{MGMT}/projects/{pid}", owner))["project"]["name"] == "Portal"
    ok(await world.call("POST", f"{MGMT}/projects/{pid}/roles", owner, json={"roleKey": "r", "displayName": "R"}))
    expect_error(await world.call("GET", f"{MGMT}/projects/{other_pid}", owner), 403, 7)
    expect_error(await world.call("POST", f"{MGMT}/projects", owner, json={"name": "New"}), 403, 7)
    mine = ok(await world.call("POST", f"{MGMT}/projects/_search", owner, json={}))
    assert [p["id"] for p in mine["result"]] == [pid]
    viewer = await project_owner(world, pid, ("PROJECT_OWNER_VIEWER",))
    expect_error(await world.call("PUT", f"{MGMT}/projects/{pid}", viewer, json={"name": "Y"}), 403, 7)
