"""Projects and their roles."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.common import ObjectDetails
from bergfried.domain.ids import OrgId, ProjectId
from bergfried.domain.projects import (
    PrivateLabelingSetting,
    Project,
    ProjectRole,
    ProjectState,
    validate_project_name,
    validate_role,
)
from bergfried.errors import NotFound
from bergfried.store import tables as t
from bergfried.store._common import added, changed, touch, unique
from bergfried.store.tx import Tx

AGGREGATE = "project"


def not_found() -> NotFound:
    return NotFound("Errors.Project.NotFound", "Project not found", error_id="COMMAND-3m9s2")


def _project(row: Any) -> Project:
    return Project(
        id=ProjectId(row.id), org_id=OrgId(row.org_id), name=row.name, state=ProjectState(row.state),
        project_role_assertion=row.project_role_assertion, project_role_check=row.project_role_check,
        has_project_check=row.has_project_check,
        private_labeling_setting=PrivateLabelingSetting(row.private_labeling_setting),
    )


async def create(tx: Tx, org_id: str, name: str, *, project_role_assertion: bool = False,
                 project_role_check: bool = False, has_project_check: bool = False,
                 private_labeling_setting: PrivateLabelingSetting = PrivateLabelingSetting.UNSPECIFIED,
                 ) -> tuple[Project, ObjectDetails]:
    name = validate_project_name(name)
    project = Project(id=ProjectId(tx.new_id()), org_id=OrgId(org_id), name=name,
                      project_role_assertion=project_role_assertion, project_role_check=project_role_check,
                      has_project_check=has_project_check, private_labeling_setting=private_labeling_setting)
    sequence = await tx.event(AGGREGATE, project.id, "project.added", {"name": name}, resource_owner=org_id)
    async with unique(tx, "Errors.Project.AlreadyExists", "Project already exists on organisation", "COMMAND-opamw"):
        await tx.conn.execute(t.projects.insert().values(
            id=project.id, org_id=org_id, name=name, state=project.state,
            project_role_assertion=project_role_assertion, project_role_check=project_role_check,
            has_project_check=has_project_check, private_labeling_setting=private_labeling_setting,
            created_at=tx.now, changed_at=tx.now, sequence=sequence,
        ))
    return project, added(tx, sequence, org_id)


async def find(conn: AsyncConnection, project_id: str) -> Project | None:
    row = (await conn.execute(sa.select(t.projects).where(t.projects.c.id == project_id))).first()
    return _project(row) if row else None


async def get(conn: AsyncConnection, project_id: str) -> Project:
    project = await find(conn, project_id)
    if project is None:
        raise not_found()
    return project


async def find_by_name(conn: AsyncConnection, org_id: str, name: str) -> Project | None:
    row = (await conn.execute(sa.select(t.projects).where(t.projects.c.org_id == org_id, t.projects.c.name == name)))
    first = row.first()
    return _project(first) if first else None


async def update(tx: Tx, project: Project, **changes: Any) -> ObjectDetails:
    """Change name or the three role/login flags; keys are the `Project` field names."""
    if "name" in changes:
        changes["name"] = validate_project_name(changes["name"])
    sequence = await tx.event(AGGREGATE, project.id, "project.changed", dict(changes), resource_owner=project.org_id)
    async with unique(tx, "Errors.Project.AlreadyExists", "Project already exists on organisation", "COMMAND-opamw"):
        await touch(tx, t.projects, t.projects.c.id == project.id, sequence, **changes)
    return changed(tx, sequence, project.org_id)


async def remove(tx: Tx, project: Project) -> ObjectDetails:
    sequence = await tx.event(AGGREGATE, project.id, "project.removed", resource_owner=project.org_id)
    await tx.conn.execute(t.members.delete().where(t.members.c.level == "project",
                                                   t.members.c.object_id == project.id))
    await tx.conn.execute(t.projects.delete().where(t.projects.c.id == project.id))
    return changed(tx, sequence, project.org_id)


async def add_roles(tx: Tx, project: Project, roles: list[ProjectRole]) -> ObjectDetails:
    sequence = 0
    for role in roles:
        validate_role(role.key, role.display_name, role.group)
        sequence = await tx.event(AGGREGATE, project.id, "project.role.added",
                                  {"key": role.key, "displayName": role.display_name, "group": role.group},
                                  resource_owner=project.org_id)
        async with unique(tx, "Errors.Project.Role.AlreadyExists", "Role already exists", "COMMAND-HD3m9"):
            await tx.conn.execute(t.project_roles.insert().values(
                project_id=project.id, key=role.key, display_name=role.display_name, group=role.group,
                org_id=project.org_id, created_at=tx.now, changed_at=tx.now, sequence=sequence,
            ))
    return added(tx, sequence, project.org_id)


async def list_roles(conn: AsyncConnection, project_id: str) -> list[ProjectRole]:
    rows = await conn.execute(sa.select(t.project_roles).where(t.project_roles.c.project_id == project_id)
                              .order_by(t.project_roles.c.key))
    return [ProjectRole(project_id=ProjectId(r.project_id), key=r.key, display_name=r.display_name, group=r.group)
            for r in rows]


async def remove_role(tx: Tx, project: Project, key: str) -> ObjectDetails:
    """Removing a role also takes its key out of every user grant and project grant."""
    pr = t.project_roles
    result = await tx.conn.execute(pr.delete().where(pr.c.project_id == project.id, pr.c.key == key))
    if not result.rowcount:
        raise NotFound("Errors.Project.Role.NotExisting", "Role doesn't exist", error_id="COMMAND-DGc2g")
    sequence = await tx.event(AGGREGATE, project.id, "project.role.removed", {"key": key},
                              resource_owner=project.org_id)
    for table in (t.user_grants, t.project_grants):
        rows = await tx.conn.execute(sa.select(table.c.id, table.c.role_keys).where(table.c.project_id == project.id))
        for row in rows.all():
            if key in row.role_keys:
                await tx.conn.execute(table.update().where(table.c.id == row.id).values(
                    role_keys=[k for k in row.role_keys if k != key], changed_at=tx.now))
    return changed(tx, sequence, project.org_id)


async def set_state(tx: Tx, project: Project, state: ProjectState) -> ObjectDetails:
    """Deactivate or reactivate (`project.deactivated` / `project.reactivated`)."""
    event = "project.deactivated" if state == ProjectState.INACTIVE else "project.reactivated"
    sequence = await tx.event(AGGREGATE, project.id, event, resource_owner=project.org_id)
    await touch(tx, t.projects, t.projects.c.id == project.id, sequence, state=state)
    return changed(tx, sequence, project.org_id)


async def find_role(conn: AsyncConnection, project_id: str, key: str) -> ProjectRole | None:
    pr = t.project_roles
    row = (await conn.execute(sa.select(pr).where(pr.c.project_id == project_id, pr.c.key == key))).first()
    return ProjectRole(ProjectId(row.project_id), row.key, row.display_name, row.group) if row else None


async def change_role(tx: Tx, project: Project, role: ProjectRole) -> ObjectDetails:
    validate_role(role.key, role.display_name, role.group)
    sequence = await tx.event(AGGREGATE, project.id, "project.role.changed",
                              {"key": role.key, "displayName": role.display_name, "group": role.group},
                              resource_owner=project.org_id)
    pr = t.project_roles
    await touch(tx, pr, sa.and_(pr.c.project_id == project.id, pr.c.key == role.key), sequence,
                display_name=role.display_name, group=role.group)
    return changed(tx, sequence, project.org_id)
