"""Project grants and user grants."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.common import ObjectDetails
from bergfried.domain.grants import ProjectGrant, ProjectGrantState, UserGrant, UserGrantState, check_role_keys
from bergfried.domain.ids import GrantId, OrgId, ProjectId, UserId
from bergfried.domain.projects import Project
from bergfried.domain.users import User
from bergfried.errors import PreconditionFailed
from bergfried.store import projects as project_store
from bergfried.store import tables as t
from bergfried.store._common import added, changed, touch, unique
from bergfried.store.tx import Tx

UG, PG = t.user_grants, t.project_grants


def _user_grant(row: Any) -> UserGrant:
    return UserGrant(id=GrantId(row.id), user_id=UserId(row.user_id), project_id=ProjectId(row.project_id),
                     org_id=OrgId(row.org_id), role_keys=tuple(row.role_keys),
                     project_grant_id=GrantId(row.project_grant_id) if row.project_grant_id else None,
                     state=UserGrantState(row.state))


def _project_grant(row: Any) -> ProjectGrant:
    return ProjectGrant(id=GrantId(row.id), project_id=ProjectId(row.project_id), org_id=OrgId(row.org_id),
                        granted_org_id=OrgId(row.granted_org_id), role_keys=tuple(row.role_keys),
                        state=ProjectGrantState(row.state))


async def add_project_grant(tx: Tx, project: Project, granted_org_id: str,
                            role_keys: list[str]) -> tuple[ProjectGrant, ObjectDetails]:
    """Share a project with another organization, with a subset of its roles."""
    roles = [r.key for r in await project_store.list_roles(tx.conn, project.id)]
    keys = check_role_keys(role_keys, roles)
    grant = ProjectGrant(id=GrantId(tx.new_id()), project_id=project.id, org_id=project.org_id,
                         granted_org_id=OrgId(granted_org_id), role_keys=keys)
    sequence = await tx.event("project", project.id, "project.grant.added",
                              {"grantId": grant.id, "grantedOrgId": granted_org_id, "roleKeys": list(keys)},
                              resource_owner=project.org_id)
    async with unique(tx, "Errors.Project.Grant.AlreadyExists", "Grant already exists", "PROJECT-2o0pd"):
        await tx.conn.execute(PG.insert().values(
            id=grant.id, project_id=project.id, org_id=project.org_id, granted_org_id=granted_org_id,
            role_keys=list(keys), state=grant.state, created_at=tx.now, changed_at=tx.now, sequence=sequence,
        ))
    return grant, added(tx, sequence, project.org_id)


async def get_project_grant(conn: AsyncConnection, grant_id: str, *, project_id: str | None = None) -> ProjectGrant:
    """A project grant by id; with `project_id`, only a grant of that project counts."""
    query = sa.select(PG).where(PG.c.id == grant_id)
    if project_id is not None:
        query = query.where(PG.c.project_id == project_id)
    row = (await conn.execute(query)).first()
    if row is None:
        raise PreconditionFailed("Errors.Project.Grant.NotFound", "Grant not found", error_id="COMMAND-7m0fS")
    return _project_grant(row)


async def add_user_grant(tx: Tx, user: User, project: Project, role_keys: list[str], *,
                         project_grant_id: str | None = None) -> tuple[UserGrant, ObjectDetails]:
    """Give a user roles on a project (directly, or through a project grant to the user's org)."""
    if project_grant_id:
        project_grant = await get_project_grant(tx.conn, project_grant_id, project_id=project.id)
        available: list[str] = list(project_grant.role_keys)
        owner = project_grant.granted_org_id
    else:
        available = [r.key for r in await project_store.list_roles(tx.conn, project.id)]
        owner = project.org_id
    keys = check_role_keys(role_keys, available)
    grant = UserGrant(id=GrantId(tx.new_id()), user_id=user.id, project_id=project.id, org_id=OrgId(owner),
                      role_keys=keys, project_grant_id=GrantId(project_grant_id) if project_grant_id else None)
    sequence = await tx.event("usergrant", grant.id, "user.grant.added",
                              {"userId": user.id, "projectId": project.id, "roleKeys": list(keys)},
                              resource_owner=owner)
    async with unique(tx, "Errors.UserGrant.AlreadyExists", "User grant already exists", "COMMAND-2m9fS"):
        await tx.conn.execute(UG.insert().values(
            id=grant.id, user_id=user.id, project_id=project.id, project_grant_id=project_grant_id, org_id=owner,
            role_keys=list(keys), state=grant.state, created_at=tx.now, changed_at=tx.now, sequence=sequence,
        ))
    return grant, added(tx, sequence, owner)


async def change_user_grant(tx: Tx, grant: UserGrant, role_keys: list[str]) -> ObjectDetails:
    if grant.project_grant_id:
        available = list((await get_project_grant(tx.conn, grant.project_grant_id)).role_keys)
    else:
        available = [r.key for r in await project_store.list_roles(tx.conn, grant.project_id)]
    keys = check_role_keys(role_keys, available)
    sequence = await tx.event("usergrant", grant.id, "user.grant.changed", {"roleKeys": list(keys)},
                              resource_owner=grant.org_id)
    await touch(tx, UG, UG.c.id == grant.id, sequence, role_keys=list(keys))
    return changed(tx, sequence, grant.org_id)


async def remove_user_grant(tx: Tx, grant: UserGrant) -> ObjectDetails:
    sequence = await tx.event("usergrant", grant.id, "user.grant.removed", resource_owner=grant.org_id)
    await tx.conn.execute(UG.delete().where(UG.c.id == grant.id))
    return changed(tx, sequence, grant.org_id)


async def get_user_grant(conn: AsyncConnection, grant_id: str) -> UserGrant:
    row = (await conn.execute(sa.select(UG).where(UG.c.id == grant_id))).first()
    if row is None:
        raise PreconditionFailed("Errors.UserGrant.NotFound", "User grant not found", error_id="COMMAND-4m8fS")
    return _user_grant(row)


async def user_grants_for_project(conn: AsyncConnection, user_id: str, project_id: str,
                                  *, active_only: bool = True) -> list[UserGrant]:
    """The grants behind the roles claim: one indexed query by user, filtered by project."""
    query = sa.select(UG).where(UG.c.user_id == user_id, UG.c.project_id == project_id)
    if active_only:
        query = query.where(UG.c.state == UserGrantState.ACTIVE)
    return [_user_grant(row) for row in await conn.execute(query.order_by(UG.c.id))]


async def list_user_grants(conn: AsyncConnection, *, user_id: str | None = None,
                           project_id: str | None = None) -> list[UserGrant]:
    query = sa.select(UG)
    if user_id:
        query = query.where(UG.c.user_id == user_id)
    if project_id:
        query = query.where(UG.c.project_id == project_id)
    return [_user_grant(row) for row in await conn.execute(query.order_by(UG.c.id))]


async def set_user_grant_state(tx: Tx, grant: UserGrant, state: UserGrantState) -> ObjectDetails:
    event = "user.grant.deactivated" if state == UserGrantState.INACTIVE else "user.grant.reactivated"
    sequence = await tx.event("usergrant", grant.id, event, resource_owner=grant.org_id)
    await touch(tx, UG, UG.c.id == grant.id, sequence, state=state)
    return changed(tx, sequence, grant.org_id)


async def find_project_grant(conn: AsyncConnection, project_id: str, granted_org_id: str) -> ProjectGrant | None:
    """The grant of a project to one organization (at most one: unique constraint)."""
    row = (await conn.execute(sa.select(PG).where(PG.c.project_id == project_id,
                                                  PG.c.granted_org_id == granted_org_id))).first()
    return _project_grant(row) if row else None


async def change_project_grant(tx: Tx, grant: ProjectGrant, role_keys: list[str]) -> ObjectDetails:
    """New role keys for a project grant; keys taken away also leave the user grants made through
    it (ZITADEL's `user.grant.cascade.changed`)."""
    roles = [r.key for r in await project_store.list_roles(tx.conn, grant.project_id)]
    keys = check_role_keys(role_keys, roles)
    sequence = await tx.event("project", grant.project_id, "project.grant.changed",
                              {"grantId": grant.id, "roleKeys": list(keys)}, resource_owner=grant.org_id)
    await touch(tx, PG, PG.c.id == grant.id, sequence, role_keys=list(keys))
    rows = await tx.conn.execute(sa.select(UG.c.id, UG.c.role_keys).where(UG.c.project_grant_id == grant.id))
    for row in rows.all():
        kept = [k for k in row.role_keys if k in keys]
        if kept != list(row.role_keys):
            seq = await tx.event("usergrant", row.id, "user.grant.cascade.changed", {"roleKeys": kept},
                                 resource_owner=grant.granted_org_id)
            await touch(tx, UG, UG.c.id == row.id, seq, role_keys=kept)
    return changed(tx, sequence, grant.org_id)


async def set_project_grant_state(tx: Tx, grant: ProjectGrant, state: ProjectGrantState) -> ObjectDetails:
    event = "project.grant.deactivated" if state == ProjectGrantState.INACTIVE else "project.grant.reactivated"
    sequence = await tx.event("project", grant.project_id, event, {"grantId": grant.id}, resource_owner=grant.org_id)
    await touch(tx, PG, PG.c.id == grant.id, sequence, state=state)
    return changed(tx, sequence, grant.org_id)


async def remove_project_grant(tx: Tx, grant: ProjectGrant) -> ObjectDetails:
    """The user grants made through it and its members go with it."""
    sequence = await tx.event("project", grant.project_id, "project.grant.removed", {"grantId": grant.id},
                              resource_owner=grant.org_id)
    await tx.conn.execute(UG.delete().where(UG.c.project_grant_id == grant.id))
    await tx.conn.execute(t.members.delete().where(t.members.c.level == "project_grant",
                                                   t.members.c.object_id == grant.id))
    await tx.conn.execute(PG.delete().where(PG.c.id == grant.id))
    return changed(tx, sequence, grant.org_id)


async def find_user_grant(conn: AsyncConnection, grant_id: str) -> UserGrant | None:
    row = (await conn.execute(sa.select(UG).where(UG.c.id == grant_id))).first()
    return _user_grant(row) if row else None
