"""Project grants and user grants (spec/management-api.md §8), as ZITADEL's `internal/command/project_grant.go`
and `user_grant.go` decide.

- A project grant shares a project of the context organization with another organization and a
  subset of the project's role keys; the granted organization then gives those roles to its users.
- A user grant gives a user (of any organization of the instance) role keys of a project the
  context organization owns, or of a project granted to it; the keys must exist there
  (FAILED_PRECONDITION `Errors.Project.Role.NotFound`); a second grant of the same project to the
  same user in the same organization is ALREADY_EXISTS `Errors.UserGrant.AlreadyExists`.
- Unknown user, project or project grant on add → FAILED_PRECONDITION; an existing grant of
  another organization on change/remove → NOT_FOUND.
- ZITADEL v4: a project grant change that changes nothing (same keys, already in that state)
  answers the current details; a user grant update with the same keys is FAILED_PRECONDITION
  `Errors.UserGrant.NotChanged`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.common import ObjectDetails
from bergfried.domain.grants import ProjectGrant, ProjectGrantState, UserGrant, UserGrantState
from bergfried.domain.orgs import OrgState
from bergfried.domain.projects import Project
from bergfried.errors import InvalidArgument, NotFound, PreconditionFailed
from bergfried.management.projects import project_of
from bergfried.store import grants, orgs, projects, users
from bergfried.store._common import current
from bergfried.store.tx import Tx


def grant_not_found() -> NotFound:
    return NotFound("Errors.Project.Grant.NotFound", "Grant not found", error_id="PROJECT-D8JxR")


def user_grant_not_found() -> NotFound:
    return NotFound("Errors.UserGrant.NotFound", "User grant not found", error_id="COMMAND-3M9sd")


def _grant_missing() -> PreconditionFailed:
    return PreconditionFailed("Errors.Project.Grant.NotFound", "Grant not found", error_id="COMMAND-7m0fS")


# --- project grants ---------------------------------------------------------------------------

async def project_grant_of(conn: AsyncConnection, org_id: str, project_id: str, grant_id: str) -> ProjectGrant:
    """A grant of a project of `org_id` (the owner's side)."""
    await project_of(conn, org_id, project_id)
    try:
        return await grants.get_project_grant(conn, grant_id, project_id=project_id)
    except PreconditionFailed:
        raise grant_not_found() from None


async def granted_project_of(conn: AsyncConnection, org_id: str, project_id: str, grant_id: str) -> ProjectGrant:
    """A grant made to `org_id` (the granted organization's side)."""
    try:
        grant = await grants.get_project_grant(conn, grant_id, project_id=project_id)
    except PreconditionFailed:
        raise grant_not_found() from None
    if grant.granted_org_id != org_id:
        raise grant_not_found()
    return grant


async def _as_is(tx: Tx, grant: ProjectGrant) -> ObjectDetails:
    """ZITADEL v4 answers a change that changes nothing (same keys, already in that state) with
    the grant's details and writes no event."""
    return await current(tx.conn, grants.PG, grants.PG.c.id == grant.id, grant.org_id)


async def add_project_grant(tx: Tx, org_id: str, project_id: str, granted_org_id: str,
                            role_keys: Sequence[str]) -> tuple[ProjectGrant, ObjectDetails]:
    project = await project_of(tx.conn, org_id, project_id)
    if granted_org_id == org_id:
        raise PreconditionFailed("Errors.Project.Grant.Invalid", "A project cannot be granted to its own organization",
                                 error_id="PROJECT-ckUpbvboAH")
    try:
        granted = await orgs.get(tx.conn, granted_org_id)
    except NotFound:
        granted = None
    if granted is None or granted.state == OrgState.REMOVED:
        raise PreconditionFailed("Errors.Org.NotFound", "Organisation not found", error_id="PROJECT-3m9s0")
    return await grants.add_project_grant(tx, project, granted_org_id, list(role_keys))


async def change_project_grant(tx: Tx, org_id: str, project_id: str, grant_id: str,
                               role_keys: Sequence[str]) -> ObjectDetails:
    grant = await project_grant_of(tx.conn, org_id, project_id, grant_id)
    if list(dict.fromkeys(role_keys)) == list(grant.role_keys):
        return await _as_is(tx, grant)
    return await grants.change_project_grant(tx, grant, list(role_keys))


async def deactivate_project_grant(tx: Tx, org_id: str, project_id: str, grant_id: str) -> ObjectDetails:
    grant = await project_grant_of(tx.conn, org_id, project_id, grant_id)
    if grant.state == ProjectGrantState.INACTIVE:
        return await _as_is(tx, grant)
    return await grants.set_project_grant_state(tx, grant, ProjectGrantState.INACTIVE)


async def reactivate_project_grant(tx: Tx, org_id: str, project_id: str, grant_id: str) -> ObjectDetails:
    grant = await project_grant_of(tx.conn, org_id, project_id, grant_id)
    if grant.state == ProjectGrantState.ACTIVE:
        return await _as_is(tx, grant)
    return await grants.set_project_grant_state(tx, grant, ProjectGrantState.ACTIVE)


async def remove_project_grant(tx: Tx, org_id: str, project_id: str, grant_id: str) -> ObjectDetails:
    return await grants.remove_project_grant(tx, await project_grant_of(tx.conn, org_id, project_id, grant_id))


# --- user grants ------------------------------------------------------------------------------

async def _grant_route(conn: AsyncConnection, org_id: str, project_id: str,
                       project_grant_id: str | None) -> tuple[Project, str | None]:
    """The project and, for a project of another organization, the project grant to `org_id`
    the user grant goes through."""
    project = await projects.find(conn, project_id)
    if project is None:
        raise PreconditionFailed("Errors.Project.NotFound", "Project not found", error_id="COMMAND-4m9s3")
    if project.org_id == org_id and not project_grant_id:
        return project, None
    if project_grant_id:
        try:
            grant: ProjectGrant | None = await grants.get_project_grant(conn, project_grant_id, project_id=project.id)
        except PreconditionFailed:
            grant = None
    else:
        grant = await grants.find_project_grant(conn, project.id, org_id)
        if grant is None:  # another organization's project, not granted: not there for this one
            raise PreconditionFailed("Errors.Project.NotFound", "Project not found", error_id="COMMAND-4m9s3")
    if grant is None or grant.granted_org_id != org_id:
        raise _grant_missing()
    return project, grant.id


async def add_user_grant(tx: Tx, org_id: str, user_id: str, project_id: str, role_keys: Sequence[str],
                         project_grant_id: str | None = None) -> tuple[UserGrant, ObjectDetails]:
    user = await users.find(tx.conn, user_id)
    if user is None:
        raise users.not_found()
    project, through = await _grant_route(tx.conn, org_id, project_id, project_grant_id)
    return await grants.add_user_grant(tx, user, project, list(role_keys), project_grant_id=through)


async def user_grant_of(conn: AsyncConnection, org_id: str, grant_id: str, user_id: str | None = None) -> UserGrant:
    """A user grant owned by `org_id` (and of `user_id` when given); otherwise NOT_FOUND."""
    grant = await grants.find_user_grant(conn, grant_id)
    if grant is None or grant.org_id != org_id or (user_id is not None and grant.user_id != user_id):
        raise user_grant_not_found()
    return grant


async def change_user_grant(tx: Tx, org_id: str, user_id: str, grant_id: str,
                            role_keys: Sequence[str]) -> ObjectDetails:
    """UpdateUserGrant replaces the role keys."""
    grant = await user_grant_of(tx.conn, org_id, grant_id, user_id)
    if list(dict.fromkeys(role_keys)) == list(grant.role_keys):
        raise PreconditionFailed("Errors.UserGrant.NotChanged", "User grant has not been changed",
                                 error_id="COMMAND-Rs8fy")
    return await grants.change_user_grant(tx, grant, list(role_keys))


async def deactivate_user_grant(tx: Tx, org_id: str, user_id: str, grant_id: str) -> ObjectDetails:
    grant = await user_grant_of(tx.conn, org_id, grant_id, user_id)
    if grant.state != UserGrantState.ACTIVE:
        raise PreconditionFailed("Errors.UserGrant.NotActive", "User grant is not active", error_id="COMMAND-1S9gx")
    return await grants.set_user_grant_state(tx, grant, UserGrantState.INACTIVE)


async def reactivate_user_grant(tx: Tx, org_id: str, user_id: str, grant_id: str) -> ObjectDetails:
    grant = await user_grant_of(tx.conn, org_id, grant_id, user_id)
    if grant.state != UserGrantState.INACTIVE:
        raise PreconditionFailed("Errors.UserGrant.NotInactive", "User grant is not inactive",
                                 error_id="COMMAND-1ML0v")
    return await grants.set_user_grant_state(tx, grant, UserGrantState.ACTIVE)


async def remove_user_grant(tx: Tx, org_id: str, user_id: str | None, grant_id: str) -> ObjectDetails:
    return await grants.remove_user_grant(tx, await user_grant_of(tx.conn, org_id, grant_id, user_id))


async def bulk_remove_user_grants(tx: Tx, org_id: str, grant_ids: Sequence[str]) -> ObjectDetails:
    """All or nothing: one unknown grant fails the call and removes none."""
    details: ObjectDetails | None = None
    for grant_id in dict.fromkeys(grant_ids):
        details = await remove_user_grant(tx, org_id, None, grant_id)
    if details is None:
        raise InvalidArgument("Errors.UserGrant.Invalid", "No user grant given", error_id="COMMAND-5M0sd")
    return details
