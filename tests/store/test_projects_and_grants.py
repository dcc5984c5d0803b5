"""Projects, roles, project grants and user grants on both engines."""

from __future__ import annotations

import pytest

from bergfried.domain.grants import UserGrantState
from bergfried.domain.projects import PrivateLabelingSetting, ProjectRole, ProjectState
from bergfried.errors import AlreadyExists, NotFound, PreconditionFailed
from bergfried.store import grants, projects
from bergfried.store.tx import Store
from tests.factories import make_org, make_project, make_user


@pytest.mark.rule("spec/management-api.md §6")
async def test_project_round_trips_is_unique_per_org_and_can_be_updated_and_removed(store: Store) -> None:
    org, other = await make_org(store), await make_org(store)
    async with store.write() as tx:
        project, details = await projects.create(
            tx, org.id, " Portal ", project_role_assertion=True, has_project_check=True,
            private_labeling_setting=PrivateLabelingSetting.ENFORCE_PROJECT_RESOURCE_OWNER_POLICY)
    assert details.resource_owner == org.id
    async with store.read() as conn:
        loaded = await projects.get(conn, project.id)
        by_name = await projects.find_by_name(conn, org.id, "Portal")
        elsewhere = await projects.find_by_name(conn, other.id, "Portal")
    assert loaded == project
    assert (loaded.name, loaded.state, loaded.project_role_assertion, loaded.project_role_check,
            loaded.has_project_check) == ("Portal", ProjectState.ACTIVE, True, False, True)
    assert by_name == project
    assert elsewhere is None
    with pytest.raises(AlreadyExists) as caught:
        await make_project(store, org, "Portal")
    assert caught.value.key == "Errors.Project.AlreadyExists"
    assert (await make_project(store, other, "Portal")).org_id == other.id
    async with store.write() as tx:
        await projects.update(tx, project, name="Portal 2", project_role_check=True)
    async with store.read() as conn:
        updated = await projects.get(conn, project.id)
    assert (updated.name, updated.project_role_check) == ("Portal 2", True)
    async with store.write() as tx:
        await projects.remove(tx, updated)
    async with store.read() as conn:
        assert await projects.find(conn, project.id) is None
        with pytest.raises(NotFound):
            await projects.get(conn, project.id)


@pytest.mark.rule("spec/management-api.md §6")
async def test_roles_are_listed_by_key_and_a_duplicate_key_already_exists(store: Store) -> None:
    org = await make_org(store)
    project = await make_project(store, org, roles=("user", "admin"))
    async with store.write() as tx:
        await projects.add_roles(tx, project, [ProjectRole(project.id, "reports/read", "Reports", group="reports")])
    async with store.read() as conn:
        roles = await projects.list_roles(conn, project.id)
    assert [(r.key, r.display_name, r.group) for r in roles] == [
        ("admin", "Admin", ""), ("reports/read", "Reports", "reports"), ("user", "User", "")]
    with pytest.raises(AlreadyExists) as caught:
        async with store.write() as tx:
            await projects.add_roles(tx, project, [ProjectRole(project.id, "fresh", "Fresh"),
                                                   ProjectRole(project.id, "admin", "Again")])
    assert caught.value.key == "Errors.Project.Role.AlreadyExists"
    async with store.read() as conn:  # the whole bulk add rolled back
        assert [r.key for r in await projects.list_roles(conn, project.id)] == ["admin", "reports/read", "user"]


async def test_remove_role_strips_the_key_from_user_and_project_grants(store: Store) -> None:
    org, granted = await make_org(store), await make_org(store)
    project = await make_project(store, org, roles=("admin", "user", "viewer"))
    user = await make_user(store, org, password=None)
    async with store.write() as tx:
        user_grant, _ = await grants.add_user_grant(tx, user, project, ["admin", "user"])
        project_grant, _ = await grants.add_project_grant(tx, project, granted.id, ["admin", "viewer"])
    async with store.write() as tx:
        await projects.remove_role(tx, project, "admin")
    async with store.read() as conn:
        assert [r.key for r in await projects.list_roles(conn, project.id)] == ["user", "viewer"]
        assert (await grants.get_user_grant(conn, user_grant.id)).role_keys == ("user",)
        assert (await grants.get_project_grant(conn, project_grant.id)).role_keys == ("viewer",)
    with pytest.raises(NotFound) as caught:
        async with store.write() as tx:
            await projects.remove_role(tx, project, "admin")
    assert caught.value.key == "Errors.Project.Role.NotExisting"


@pytest.mark.rule("spec/management-api.md §8")
async def test_user_grant_round_trip_change_remove_and_unknown_role_is_a_failed_precondition(store: Store) -> None:
    org = await make_org(store)
    project = await make_project(store, org)
    user = await make_user(store, org, password=None)
    with pytest.raises(PreconditionFailed) as caught:
        async with store.write() as tx:
            await grants.add_user_grant(tx, user, project, ["user", "superhero"])
    assert caught.value.key == "Errors.Project.Role.NotFound"
    async with store.write() as tx:
        grant, details = await grants.add_user_grant(tx, user, project, ["user", "admin", "user"])
    assert grant.role_keys == ("user", "admin")
    assert details.resource_owner == org.id
    async with store.read() as conn:
        loaded = await grants.get_user_grant(conn, grant.id)
        for_project = await grants.user_grants_for_project(conn, user.id, project.id)
    assert loaded == grant
    assert (loaded.org_id, loaded.state, loaded.project_grant_id) == (org.id, UserGrantState.ACTIVE, None)
    assert for_project == [grant]
    async with store.write() as tx:
        await grants.change_user_grant(tx, grant, ["admin"])
    async with store.read() as conn:
        assert (await grants.get_user_grant(conn, grant.id)).role_keys == ("admin",)
    with pytest.raises(PreconditionFailed):
        async with store.write() as tx:
            await grants.change_user_grant(tx, grant, ["nope"])
    async with store.write() as tx:
        await grants.remove_user_grant(tx, grant)
    async with store.read() as conn:
        assert await grants.list_user_grants(conn, project_id=project.id) == []
        with pytest.raises(PreconditionFailed) as gone:
            await grants.get_user_grant(conn, grant.id)
    assert gone.value.key == "Errors.UserGrant.NotFound"


@pytest.mark.rule("spec/management-api.md §8")
async def test_a_second_grant_for_the_same_user_and_project_already_exists(store: Store) -> None:
    org = await make_org(store)
    project = await make_project(store, org)
    user = await make_user(store, org, password=None)
    async with store.write() as tx:
        await grants.add_user_grant(tx, user, project, ["user"])
    with pytest.raises(AlreadyExists) as caught:
        async with store.write() as tx:
            await grants.add_user_grant(tx, user, project, ["admin"])
    assert caught.value.key == "Errors.UserGrant.AlreadyExists"
    async with store.read() as conn:
        assert [g.role_keys for g in await grants.list_user_grants(conn, user_id=user.id)] == [("user",)]


@pytest.mark.rule("spec/management-api.md §8")
async def test_project_grant_takes_a_subset_of_the_projects_roles(store: Store) -> None:
    org, granted = await make_org(store), await make_org(store)
    project = await make_project(store, org, roles=("admin", "user"))
    with pytest.raises(PreconditionFailed) as caught:
        async with store.write() as tx:
            await grants.add_project_grant(tx, project, granted.id, ["user", "owner"])
    assert caught.value.key == "Errors.Project.Role.NotFound"
    async with store.write() as tx:
        project_grant, details = await grants.add_project_grant(tx, project, granted.id, ["user"])
    assert details.resource_owner == org.id
    async with store.read() as conn:
        loaded = await grants.get_project_grant(conn, project_grant.id)
    assert (loaded.project_id, loaded.org_id, loaded.granted_org_id, loaded.role_keys) == (
        project.id, org.id, granted.id, ("user",))
    with pytest.raises(AlreadyExists):
        async with store.write() as tx:
            await grants.add_project_grant(tx, project, granted.id, ["admin"])


@pytest.mark.rule("spec/management-api.md §8")
async def test_user_grant_through_a_project_grant_is_owned_by_the_granted_org(store: Store) -> None:
    org, granted = await make_org(store), await make_org(store)
    project = await make_project(store, org, roles=("admin", "user"))
    member = await make_user(store, granted, password=None)
    async with store.write() as tx:
        project_grant, _ = await grants.add_project_grant(tx, project, granted.id, ["user"])
    with pytest.raises(PreconditionFailed) as caught:  # a role of the project, but not of the grant
        async with store.write() as tx:
            await grants.add_user_grant(tx, member, project, ["admin"], project_grant_id=project_grant.id)
    assert caught.value.key == "Errors.Project.Role.NotFound"
    async with store.write() as tx:
        grant, details = await grants.add_user_grant(tx, member, project, ["user"], project_grant_id=project_grant.id)
    assert details.resource_owner == granted.id
    async with store.read() as conn:
        loaded = await grants.get_user_grant(conn, grant.id)
    assert (loaded.org_id, loaded.project_grant_id, loaded.role_keys) == (granted.id, project_grant.id, ("user",))


@pytest.mark.rule("spec/management-api.md §8")
async def test_user_grant_through_a_project_grant_of_another_project_is_refused(store: Store) -> None:
    org, granted = await make_org(store), await make_org(store)
    shared = await make_project(store, org, roles=("admin",))
    target = await make_project(store, org, roles=("user",))
    member = await make_user(store, granted, password=None)
    async with store.write() as tx:
        project_grant, _ = await grants.add_project_grant(tx, shared, granted.id, ["admin"])
    with pytest.raises(PreconditionFailed) as caught:
        async with store.write() as tx:
            await grants.add_user_grant(tx, member, target, ["admin"], project_grant_id=project_grant.id)
    assert caught.value.key == "Errors.Project.Grant.NotFound"
    async with store.read() as conn:
        assert await grants.list_user_grants(conn, user_id=member.id) == []
