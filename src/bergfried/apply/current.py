"""What the database holds of the declared world, found by natural keys: organization name,
project name within its organization, role key, application name within its project, user name
within its organization, metadata key, and the project of a user grant. Only declared objects
(and what they hold) are read."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.apply.schema import OrgSpec, ProjectSpec, UserSpec, World
from bergfried.domain.apps import Application
from bergfried.domain.grants import ProjectGrant, UserGrant
from bergfried.domain.orgs import Org, OrgState
from bergfried.domain.projects import Project, ProjectRole
from bergfried.domain.users import User, UserState
from bergfried.store import apps, grants, metadata, orgs, projects
from bergfried.store import tables as t
from bergfried.store import users as user_store


@dataclass(slots=True)
class ProjectNow:
    project: Project
    roles: dict[str, ProjectRole]
    apps: dict[str, Application] = field(default_factory=dict)
    grants: dict[str, ProjectGrant] = field(default_factory=dict)  # by granted organization id


@dataclass(slots=True)
class UserNow:
    user: User
    metadata: dict[str, bytes]
    grants: dict[str, UserGrant]  # by project id: the user's grants its organization holds


@dataclass(slots=True)
class OrgNow:
    org: Org
    projects: dict[str, ProjectNow]  # every project of the organization, by name
    users: dict[str, UserNow]  # declared users only, by lower-case user name
    metadata: dict[str, bytes]


async def find_org(conn: AsyncConnection, name: str) -> Org | None:
    """Organization names are unique regardless of case (`uq_orgs_name_lower`)."""
    row = (await conn.execute(sa.select(t.orgs.c.id).where(
        sa.func.lower(t.orgs.c.name) == name.strip().lower(), t.orgs.c.state != OrgState.REMOVED))).first()
    return await orgs.get(conn, row.id) if row else None


async def _projects(conn: AsyncConnection, org_id: str, declared: tuple[ProjectSpec, ...]) -> dict[str, ProjectNow]:
    rows = await conn.execute(sa.select(t.projects.c.id).where(t.projects.c.org_id == org_id))
    found: dict[str, ProjectNow] = {}
    wanted = {p.name for p in declared}
    for row in rows.all():
        project = await projects.get(conn, row.id)
        roles = {r.key: r for r in await projects.list_roles(conn, project.id)}
        now = ProjectNow(project, roles)
        now.grants = await _project_grants(conn, project.id)
        if project.name in wanted:
            now.apps = {a.name: a for a in await apps.list_for_project(conn, project.id)}
        found[project.name] = now
    return found


async def _project_grants(conn: AsyncConnection, project_id: str) -> dict[str, ProjectGrant]:
    PG = t.project_grants
    found: dict[str, ProjectGrant] = {}
    for row in (await conn.execute(sa.select(PG.c.granted_org_id).where(PG.c.project_id == project_id))).all():
        grant = await grants.find_project_grant(conn, project_id, row.granted_org_id)
        if grant is not None:
            found[row.granted_org_id] = grant
    return found


async def _org_metadata(conn: AsyncConnection, org_id: str) -> dict[str, bytes]:
    rows = await conn.execute(metadata.search_for(metadata.of_org(org_id)))
    return {row.key: bytes(row.value) for row in rows}


async def _user(conn: AsyncConnection, org_id: str, spec: UserSpec) -> UserNow | None:
    row = (await conn.execute(sa.select(t.users).where(
        t.users.c.org_id == org_id, t.users.c.username_lower == spec.user_name.strip().lower(),
        t.users.c.state != UserState.DELETED))).first()
    if row is None:
        return None
    user = user_store.from_row(row)
    held = [g for g in await grants.list_user_grants(conn, user_id=user.id) if g.org_id == org_id]
    return UserNow(user, await metadata.get_all(conn, user.id), {g.project_id: g for g in held})


async def _org(conn: AsyncConnection, spec: OrgSpec) -> OrgNow | None:
    org = await find_org(conn, spec.name)
    if org is None:
        return None
    users: dict[str, UserNow] = {}
    for user_spec in spec.users:
        found = await _user(conn, org.id, user_spec)
        if found is not None:
            users[user_spec.user_name.strip().lower()] = found
    return OrgNow(org, await _projects(conn, org.id, spec.projects), users, await _org_metadata(conn, org.id))


async def load(conn: AsyncConnection, world: World) -> dict[str, OrgNow]:
    """The declared organizations that exist, by lower-case name."""
    found: dict[str, OrgNow] = {}
    for spec in world.orgs:
        now = await _org(conn, spec)
        if now is not None:
            found[spec.name.strip().lower()] = now
    return found
