"""May the caller do this here? Memberships → permissions (spec/roles-and-permissions.md §2,
ZITADEL's `internal/api/authz/authorization.go` and `permissions.go`).

1. The context organization is `x-zitadel-orgid` or the caller's own; an unknown one is
   PERMISSION_DENIED `Organisation doesn't exist`.
2. `authenticated` needs no membership.
3. The caller's memberships on the instance and in the context organization are expanded with
   `ROLE_PERMISSIONS`; project and project-grant memberships yield permissions bound to their id.
   No membership at all → NOT_FOUND `membership not found` (HTTP 404, as ZITADEL).
4. None of them is the required one → PERMISSION_DENIED `No matching permissions found`.
5. With a check field (`ProjectId`, `Id`, `GrantId`), a bound permission counts only when the
   request's id equals its project/grant; an unbound one always counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.api.auth import Caller
from bergfried.domain.members import ROLE_PERMISSIONS, MemberLevel
from bergfried.domain.orgs import OrgState
from bergfried.errors import NotFound, PermissionDenied
from bergfried.store import members, orgs

AUTHENTICATED = "authenticated"
_BOUND_LEVELS = (MemberLevel.PROJECT, MemberLevel.PROJECT_GRANT)


@dataclass(frozen=True, slots=True)
class Granted:
    """The caller's permissions in the context organization: permission → ids it is bound to
    (`None` = unbound, valid for the whole organization)."""

    org_id: str
    permissions: dict[str, frozenset[str | None]]

    def has(self, permission: str, object_id: str | None = None) -> bool:
        bound = self.permissions.get(permission, frozenset())
        return None in bound or (object_id is not None and object_id in bound)

    def bound_ids(self, permission: str) -> frozenset[str]:
        """The projects/grants a project-level member may act on (for filtering lists)."""
        return frozenset(i for i in self.permissions.get(permission, frozenset()) if i is not None)


def _denied(error_id: str) -> PermissionDenied:
    return PermissionDenied("No matching permissions found", "No matching permissions found", error_id=error_id)


async def context_org(conn: AsyncConnection, caller: Caller, header: str | None) -> str:
    if not header:
        return caller.org_id
    org_id = header.strip()
    try:
        org = await orgs.get(conn, org_id)
    except NotFound:
        org = None
    if org is None or org.state == OrgState.REMOVED:
        raise PermissionDenied("Organisation doesn't exist", "Organisation doesn't exist", error_id="AUTH-Bs7Ds")
    return org_id


async def granted(conn: AsyncConnection, caller: Caller, org_id: str) -> Granted:
    memberships = await members.in_context(conn, caller.user_id, org_id)
    if not memberships:
        raise NotFound("membership not found", "membership not found", error_id="AUTHZ-cdgFk")
    out: dict[str, set[str | None]] = {}
    for membership in memberships:
        bound = membership.object_id if membership.level in _BOUND_LEVELS else None
        for role in membership.roles:
            for permission in ROLE_PERMISSIONS.get(role, frozenset()):
                out.setdefault(permission, set()).add(bound)
    return Granted(org_id=org_id, permissions={k: frozenset(v) for k, v in out.items()})


def check(grant: Granted, required: str, check_value: str | None) -> None:
    bound = grant.permissions.get(required)
    if not bound:
        raise _denied("AUTH-5mWD2")
    if not grant.has(required, check_value):
        raise _denied("AUTH-3jknH")


async def authorize(conn: AsyncConnection, caller: Caller, org_header: str | None, required: str,
                    check_value: str | None, *, has_check_field: bool) -> Granted:
    org_id = await context_org(conn, caller, org_header)
    if required == AUTHENTICATED:
        return Granted(org_id=org_id, permissions={})
    grant = await granted(conn, caller, org_id)
    if has_check_field:
        check(grant, required, check_value)
    elif not grant.permissions.get(required):
        raise _denied("AUTH-5mWD2")
    return grant
