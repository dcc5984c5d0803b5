"""What stops a logged-in user from finishing an authorization request, in ZITADEL's order
(spec/login.md §2 steps 12–13, §3; spec/roles-and-permissions.md §4; spec/scopes.md §3):

1. `urn:zitadel:iam:org:id:{id}` / `urn:zitadel:iam:org:domain:primary:{domain}`: the user must
   belong to that organization → `Errors.User.NotAllowedOrg`.
2. The project's "Check for project on authentication" (`hasProjectCheck`): the user's
   organization owns the project or holds an active project grant for it →
   `Errors.User.ProjectRequired`.
3. The project's "Check authorization on authentication" (`projectRoleCheck`): the user has an
   active user grant on the project (its role list may be empty) → `Errors.User.GrantRequired`.

The callback checks these before it answers, so a refused user sees ZITADEL's error page and
the client receives nothing (the request stays open, as in ZITADEL's v1 login). Client
credentials and other machine grants are never gated (no code path in ZITADEL reads the flags).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.claims import scopes as sc
from bergfried.domain.grants import ProjectGrantState, UserGrantState
from bergfried.store import tables as t

NOT_ALLOWED_ORG = "Errors.User.NotAllowedOrg"
PROJECT_REQUIRED = "Errors.User.ProjectRequired"
GRANT_REQUIRED = "Errors.User.GrantRequired"

MESSAGES = {
    NOT_ALLOWED_ORG: "User is no member of the required organization",
    PROJECT_REQUIRED: "Login not possible. The organization of the user must be granted to the project. "
                      "Please contact your administrator.",
    GRANT_REQUIRED: "Login not possible. The user is required to have at least one grant on the application. "
                    "Please contact your administrator.",
}


@dataclass(frozen=True, slots=True)
class Refusal:
    key: str
    reason: str

    @property
    def message(self) -> str:
        return MESSAGES[self.key]


def _suffix(scopes: tuple[str, ...], prefix: str) -> str | None:
    return next((s[len(prefix):] for s in scopes if s.startswith(prefix)), None)


async def check(conn: AsyncConnection, *, user_id: str, client_id: str, scopes: tuple[str, ...]) -> Refusal | None:
    """The first gate the user fails, or None. Two to four indexed queries, at login only."""
    u, o = t.users, t.orgs
    user = (await conn.execute(sa.select(u.c.org_id, o.c.primary_domain).join(o, o.c.id == u.c.org_id)
                               .where(u.c.id == user_id))).first()
    if user is None:
        return Refusal(NOT_ALLOWED_ORG, f"user {user_id} not found")
    org_id, domain = _suffix(scopes, sc.ORG_ID_PREFIX), _suffix(scopes, sc.ORG_DOMAIN_PREFIX)
    if org_id is not None and org_id != user.org_id:
        return Refusal(NOT_ALLOWED_ORG, f"scope asks for organization {org_id}, the user belongs to {user.org_id}")
    if domain is not None and domain != user.primary_domain:
        return Refusal(NOT_ALLOWED_ORG, f"scope asks for the organization of domain {domain}, "
                                        f"the user's organization has {user.primary_domain}")
    a, p = t.applications, t.projects
    project = (await conn.execute(sa.select(p.c.id, p.c.org_id, p.c.has_project_check, p.c.project_role_check)
                                  .join(a, a.c.project_id == p.c.id).where(a.c.client_id == client_id))).first()
    if project is None:
        return None
    if project.has_project_check and project.org_id != user.org_id and not await _project_granted(
            conn, project.id, user.org_id):
        return Refusal(PROJECT_REQUIRED, f"hasProjectCheck: organization {user.org_id} neither owns project "
                                         f"{project.id} nor holds an active project grant for it")
    if project.project_role_check and not await _user_granted(conn, user_id, project.id):
        return Refusal(GRANT_REQUIRED, f"projectRoleCheck: user {user_id} has no active grant on project {project.id}")
    return None


async def _project_granted(conn: AsyncConnection, project_id: str, org_id: str) -> bool:
    pg = t.project_grants
    found = await conn.execute(sa.select(pg.c.id).where(
        pg.c.project_id == project_id, pg.c.granted_org_id == org_id, pg.c.state == ProjectGrantState.ACTIVE))
    return found.first() is not None


async def _user_granted(conn: AsyncConnection, user_id: str, project_id: str) -> bool:
    ug = t.user_grants
    found = await conn.execute(sa.select(ug.c.id).where(
        ug.c.user_id == user_id, ug.c.project_id == project_id, ug.c.state == UserGrantState.ACTIVE).limit(1))
    return found.first() is not None
