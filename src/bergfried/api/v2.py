"""What the v2 services share (spec/api-v2.md §1): their list details, durations, the organization
a request names, and the permission check the handlers run themselves.

v2 RPCs are declared `authenticated`; ZITADEL checks the fine-grained permission inside the
command or query, against the organization of the object (`checkPermission(ctx, perm, orgID, id)`):
memberships of the instance count everywhere, an organization's only there. The errors are the
v1 ones (`membership not found` 404, `No matching permissions found` 403), the JSON error shape
too (grpc-gateway's Status).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.api import permissions
from bergfried.api.auth import Caller
from bergfried.api.protojson import ApiModel, Int64, Timestamp
from bergfried.domain.members import ROLE_PERMISSIONS, MemberLevel
from bergfried.errors import NotFound
from bergfried.store import members, orgs

_DURATION = re.compile(r"^(\d{1,12})(?:\.(\d{1,9}))?s$")


def _duration(value: Any) -> Any:
    """protojson Duration: `"3600s"`, `"1.5s"`; a leading `-` is kept so the rule can refuse it."""
    if isinstance(value, str):
        text = value.strip()
        sign = -1 if text.startswith("-") else 1
        match = _DURATION.match(text.lstrip("-"))
        if match is None:
            raise ValueError("invalid duration, expected seconds like \"3600s\"")
        seconds = int(match.group(1)) + float("0." + (match.group(2) or "0"))
        return timedelta(seconds=sign * seconds)
    return value


DurationIn = Annotated[timedelta, BeforeValidator(_duration),
                       WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?s$", "example": "3600s"})]


class ListDetailsV2(ApiModel):
    """`object/v2/object.proto` ListDetails (`timestamp`, where v1 says `viewTimestamp`)."""

    total_result: Int64 = 0
    processed_sequence: Int64 = 0
    timestamp: Timestamp | None = None


class Organization(ApiModel):
    """`object/v2/object.proto` Organization: oneof `orgId` / `orgDomain`."""

    org_id: str = ""
    org_domain: str = ""


async def org_of(conn: AsyncConnection, org: Organization | None, default: str) -> str:
    """The organization a request names, else the context one (`x-zitadel-orgid` or the caller's)."""
    if org is None or not (org.org_id or org.org_domain):
        return default
    try:
        found = await (orgs.get(conn, org.org_id) if org.org_id else orgs.get_by_domain(conn, org.org_domain))
    except NotFound:
        raise NotFound("Errors.Org.NotFound", "Organisation not found", error_id="QUERY-iTTGJ") from None
    return found.id


async def require(conn: AsyncConnection, caller: Caller, permission: str, org_id: str) -> None:
    """The caller holds `permission` in `org_id` (or on the instance), else 404/403 as ZITADEL."""
    permissions.check(await permissions.granted(conn, caller, org_id), permission, None)


async def holds(conn: AsyncConnection, caller: Caller, permission: str, org_id: str) -> bool:
    """As `require`, without raising (for calls the owner of an object may make without it)."""
    try:
        grant = await permissions.granted(conn, caller, org_id)
    except NotFound:
        return False
    return grant.has(permission)


async def readable_orgs(conn: AsyncConnection, caller: Caller, permission: str) -> set[str] | None:
    """Where the caller may use `permission`: None = every organization (an instance role), else
    the organizations whose membership grants it (v2 lists filter instead of failing)."""
    out: set[str] = set()
    for membership in await members.of_user(conn, caller.user_id):
        if not any(permission in ROLE_PERMISSIONS.get(role, frozenset()) for role in membership.roles):
            continue
        if membership.level == MemberLevel.INSTANCE:
            return None
        if membership.level == MemberLevel.ORG:
            out.add(membership.object_id)
    return out
