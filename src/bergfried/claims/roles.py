"""The roles claims (spec/claims.md §3 "Role computation"; spec/scopes.md §3, §4).

- Role audience: the projects of `urn:zitadel:iam:org:project:id:{id}:aud` scopes when a role
  scope or `urn:zitadel:iam:org:projects:roles` is present (never for introspection), plus the
  client's own project whenever roles are asked for or asserted, or the audience is not empty.
  Introspection asserts the introspecting API's project only (ZITADEL's `currentProjectOnly`).
- Grants: the user's active grants on those projects, from every organization (project grants
  included), filtered by `urn:zitadel:iam:org:roles:id:{orgID}` scopes when there are any.
- Specific role scopes return the requested roles of the client's project only (ZITADEL's
  documented behaviour, spec/README.md decision); without one (asserted by setting) all roles.
- Value: `{role: {orgId: orgPrimaryDomain}}`, a plain object, never the docs' array.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.claims import scopes as sc
from bergfried.claims.context import Context, RoleGrant
from bergfried.domain.grants import UserGrantState
from bergfried.store import tables as t

ROLE_ORG_PREFIX = "urn:zitadel:iam:org:roles:id:"
OWN = "urn:zitadel:iam:org:project:roles"
ALL = "urn:zitadel:iam:org:projects:roles"


def requested_keys(scopes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(s[len(sc.ROLE_PREFIX):] for s in scopes if s.startswith(sc.ROLE_PREFIX))


def role_audience(scopes: tuple[str, ...], own_project: str, *, introspection: bool,
                  asserted: bool) -> tuple[str, ...]:
    """The projects whose roles may be asserted, own project first."""
    asked = bool(requested_keys(scopes)) or sc.PROJECTS_ROLES in scopes
    others: list[str] = []
    if not introspection and asked:
        others = [p for p in sc.audience_project_ids(scopes) if p != own_project]
    if introspection or asserted or requested_keys(scopes) or others:
        return (own_project, *others)
    return ()


async def load_grants(conn: AsyncConnection, user_id: str, projects: tuple[str, ...]) -> tuple[RoleGrant, ...]:
    """One query on the user grants' (user_id, project_id, org_id) index, joined to the grant's org."""
    if not projects:
        return ()
    ug, o = t.user_grants, t.orgs
    rows = await conn.execute(
        sa.select(ug.c.project_id, ug.c.org_id, ug.c.role_keys, o.c.primary_domain)
        .join(o, o.c.id == ug.c.org_id)
        .where(ug.c.user_id == user_id, ug.c.project_id.in_(projects), ug.c.state == UserGrantState.ACTIVE)
        .order_by(ug.c.id)
    )
    return tuple(RoleGrant(project_id=r.project_id, org_id=r.org_id, org_primary_domain=r.primary_domain,
                           role_keys=tuple(r.role_keys)) for r in rows)


def _per_project(ctx: Context) -> dict[str, dict[str, dict[str, str]]]:
    org_filter = {s[len(ROLE_ORG_PREFIX):] for s in ctx.scopes if s.startswith(ROLE_ORG_PREFIX)}
    keys = set(requested_keys(ctx.scopes))
    own = ctx.role_projects[0] if ctx.role_projects else None
    out: dict[str, dict[str, dict[str, str]]] = {}
    for grant in ctx.grants:
        if grant.project_id not in ctx.role_projects or (org_filter and grant.org_id not in org_filter):
            continue
        for key in grant.role_keys:
            if keys and grant.project_id == own and key not in keys:
                continue
            out.setdefault(grant.project_id, {}).setdefault(key, {})[grant.org_id] = grant.org_primary_domain
    return out


def own_roles(ctx: Context) -> dict[str, Any]:
    roles = _per_project(ctx).get(ctx.role_projects[0]) if ctx.role_projects else None
    return {OWN: roles} if roles else {}


def project_roles(ctx: Context) -> dict[str, Any]:
    return {f"urn:zitadel:iam:org:project:{project}:roles": roles for project, roles in _per_project(ctx).items()}


def all_roles(ctx: Context) -> dict[str, Any]:
    merged: dict[str, dict[str, str]] = {}
    for roles in _per_project(ctx).values():
        merged.update(roles)  # a later project's entry for the same key replaces an earlier one
    return {ALL: merged} if merged else {}
