"""Projects and project roles (spec/management-api.md §6), as ZITADEL v4's `internal/command/project.go`
and `project_role.go` decide: a project of another organization is not found; a change that
changes nothing answers the current details and writes no event; deactivating an inactive project
(or reactivating an active one) is FAILED_PRECONDITION. `bergfried apply` calls these too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.common import ObjectDetails
from bergfried.domain.members import MemberLevel
from bergfried.domain.projects import PrivateLabelingSetting, Project, ProjectRole, ProjectState
from bergfried.errors import NotFound, PreconditionFailed
from bergfried.store import projects as store
from bergfried.store import tables as t
from bergfried.store._common import current
from bergfried.store.tx import Tx

P, PR = t.projects, t.project_roles


def no_changes(error_id: str) -> PreconditionFailed:
    return PreconditionFailed("Errors.NoChangesFound", "No changes found", error_id=error_id)


def role_not_found() -> NotFound:
    return NotFound("Errors.Project.Role.NotExisting", "Role doesn't exist", error_id="COMMAND-vv8M9")


async def project_of(conn: AsyncConnection, org_id: str, project_id: str) -> Project:
    """A project of `org_id`; unknown or another organization's → NOT_FOUND `Errors.Project.NotFound`."""
    project = await store.find(conn, project_id)
    if project is None or project.org_id != org_id:
        raise store.not_found()
    return project


async def add_project(tx: Tx, org_id: str, name: str, *, project_role_assertion: bool = False,
                      project_role_check: bool = False, has_project_check: bool = False,
                      private_labeling_setting: PrivateLabelingSetting = PrivateLabelingSetting.UNSPECIFIED,
                      ) -> tuple[Project, ObjectDetails]:
    return await store.create(tx, org_id, name, project_role_assertion=project_role_assertion,
                              project_role_check=project_role_check, has_project_check=has_project_check,
                              private_labeling_setting=private_labeling_setting)


async def change_project(tx: Tx, org_id: str, project_id: str, name: str, *, project_role_assertion: bool,
                         project_role_check: bool, has_project_check: bool,
                         private_labeling_setting: PrivateLabelingSetting) -> ObjectDetails:
    """UpdateProject replaces all fields; only the ones that differ are written."""
    project = await project_of(tx.conn, org_id, project_id)
    wanted: dict[str, Any] = {
        "name": name.strip(), "project_role_assertion": project_role_assertion,
        "project_role_check": project_role_check, "has_project_check": has_project_check,
        "private_labeling_setting": private_labeling_setting,
    }
    changes = {key: value for key, value in wanted.items() if getattr(project, key) != value}
    if not changes:  # ZITADEL v4: answer the project as it is, write nothing
        return await current(tx.conn, P, P.c.id == project.id, project.org_id)
    return await store.update(tx, project, **changes)


async def deactivate_project(tx: Tx, org_id: str, project_id: str) -> ObjectDetails:
    project = await project_of(tx.conn, org_id, project_id)
    if project.state != ProjectState.ACTIVE:
        raise PreconditionFailed("Errors.Project.NotActive", "Project is not active", error_id="COMMAND-mki55")
    return await store.set_state(tx, project, ProjectState.INACTIVE)


async def reactivate_project(tx: Tx, org_id: str, project_id: str) -> ObjectDetails:
    project = await project_of(tx.conn, org_id, project_id)
    if project.state != ProjectState.INACTIVE:
        raise PreconditionFailed("Errors.Project.NotInactive", "Project is not inactive", error_id="COMMAND-5M9bs")
    return await store.set_state(tx, project, ProjectState.ACTIVE)


async def remove_project(tx: Tx, org_id: str, project_id: str) -> ObjectDetails:
    """Its roles, apps, grants and user grants go with it (ZITADEL's cascade); so do the members
    of its project grants."""
    project = await project_of(tx.conn, org_id, project_id)
    grant_ids = sa.select(t.project_grants.c.id).where(t.project_grants.c.project_id == project.id)
    await tx.conn.execute(t.members.delete().where(t.members.c.level == MemberLevel.PROJECT_GRANT,
                                                   t.members.c.object_id.in_(grant_ids)))
    await tx.conn.execute(t.user_grants.delete().where(t.user_grants.c.project_id == project.id))
    return await store.remove(tx, project)


async def add_project_role(tx: Tx, org_id: str, project_id: str, key: str, display_name: str,
                           group: str = "") -> ObjectDetails:
    return await bulk_add_project_roles(tx, org_id, project_id, [(key, display_name, group)])


async def bulk_add_project_roles(tx: Tx, org_id: str, project_id: str,
                                 roles: Sequence[tuple[str, str, str]]) -> ObjectDetails:
    """(key, display name, group) each; one existing key fails the whole call (409)."""
    project = await project_of(tx.conn, org_id, project_id)
    return await store.add_roles(tx, project, [ProjectRole(project.id, k, d, g) for k, d, g in roles])


async def change_project_role(tx: Tx, org_id: str, project_id: str, key: str, display_name: str,
                              group: str = "") -> ObjectDetails:
    project = await project_of(tx.conn, org_id, project_id)
    role = await store.find_role(tx.conn, project.id, key)
    if role is None:
        raise role_not_found()
    if (role.display_name, role.group) == (display_name, group):
        return await current(tx.conn, PR, sa.and_(PR.c.project_id == project.id, PR.c.key == key), project.org_id)
    return await store.change_role(tx, project, ProjectRole(project.id, key, display_name, group))


async def remove_project_role(tx: Tx, org_id: str, project_id: str, key: str) -> ObjectDetails:
    """The key also leaves every user grant and project grant of the project. A key the project
    does not have: nothing to do, empty details (ZITADEL v4 `RemoveProjectRole`)."""
    project = await project_of(tx.conn, org_id, project_id)
    if await store.find_role(tx.conn, project.id, key) is None:
        return ObjectDetails(sequence=0, creation_date=None, change_date=None, resource_owner=project.org_id)
    return await store.remove_role(tx, project, key)


def search_projects(org_id: str) -> sa.Select[Any]:
    return sa.select(P).where(P.c.org_id == org_id)


def search_roles(project_id: str) -> sa.Select[Any]:
    return sa.select(PR).where(PR.c.project_id == project_id)


async def project_row(conn: AsyncConnection, org_id: str, project_id: str) -> Any:
    row = (await conn.execute(search_projects(org_id).where(P.c.id == project_id))).first()
    if row is None:
        raise NotFound("Errors.Project.NotFound", "Project not found", error_id="QUERY-fk9wj")
    return row
