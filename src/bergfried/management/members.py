"""Members: users with manager roles on the instance, an organization, a project or a project grant
(spec/roles-and-permissions.md §1), as ZITADEL's `internal/command/*_member.go` decide.

- The user may belong to any organization of the instance; unknown → FAILED_PRECONDITION.
- Roles must be of the level (`IAM_`, `ORG_`, `PROJECT_`, `PROJECT_GRANT_`) → else INVALID_ARGUMENT.
- Changing a member to the roles it has answers the current details and writes nothing (v4);
  changing a non-member → NOT_FOUND.
- Removing a non-member writes nothing and answers details with only the resource owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.common import ObjectDetails
from bergfried.domain.members import ROLE_PERMISSIONS, MemberLevel, validate_member_roles
from bergfried.errors import InvalidArgument, NotFound
from bergfried.store import members, users
from bergfried.store import tables as t
from bergfried.store._common import changed, current, touch
from bergfried.store.tx import Tx

MB = t.members


@dataclass(frozen=True, slots=True)
class Target:
    """What a membership is on: its level, object id and the organization it counts in (none for
    the instance)."""

    level: MemberLevel
    object_id: str
    org_id: str | None


def roles_of_level(level: MemberLevel) -> list[str]:
    """The role names a member of `level` may get, in the order of the role table."""
    out = []
    for role in ROLE_PERMISSIONS:
        try:
            validate_member_roles(level, [role])
        except InvalidArgument:
            continue
        out.append(role)
    return out


def _not_member() -> NotFound:
    return NotFound("Errors.Member.NotFound", "Member not found", error_id="COMMAND-D8JxR")


async def _roles(conn: AsyncConnection, target: Target, user_id: str) -> list[str] | None:
    row = (await conn.execute(sa.select(MB.c.roles).where(
        MB.c.level == target.level, MB.c.object_id == target.object_id, MB.c.user_id == user_id))).first()
    return list(row.roles) if row else None


async def add_member(tx: Tx, target: Target, user_id: str, roles: Sequence[str]) -> ObjectDetails:
    if await users.find(tx.conn, user_id) is None:
        raise users.not_found()
    return await members.add(tx, target.level, target.object_id, user_id, list(roles), org_id=target.org_id)


async def change_member(tx: Tx, target: Target, user_id: str, roles: Sequence[str]) -> ObjectDetails:
    roles_now = await _roles(tx.conn, target, user_id)
    if roles_now is None:
        raise _not_member()
    valid = validate_member_roles(target.level, roles)
    where = sa.and_(MB.c.level == target.level, MB.c.object_id == target.object_id, MB.c.user_id == user_id)
    if sorted(valid) == sorted(roles_now):
        return await current(tx.conn, MB, where, target.org_id or target.object_id)
    level = target.level.value
    sequence = await tx.event(level, target.object_id, f"{level}.member.changed",
                              {"userId": user_id, "roles": list(valid)}, resource_owner=target.org_id)
    await touch(tx, MB, where, sequence, roles=list(valid))
    return changed(tx, sequence, target.org_id or target.object_id)


async def remove_member(tx: Tx, target: Target, user_id: str) -> ObjectDetails:
    if await _roles(tx.conn, target, user_id) is None:
        return ObjectDetails(sequence=0, creation_date=None, change_date=None,
                             resource_owner=target.org_id or target.object_id)
    return await members.remove(tx, target.level, target.object_id, user_id, org_id=target.org_id)


def search(target: Target) -> sa.Select[Any]:
    """The members of one object joined to their users and their organizations, for the list
    calls to filter and page."""
    u = t.users
    return (sa.select(MB, u.c.username, u.c.email, u.c.first_name, u.c.last_name, u.c.display_name, u.c.machine_name,
                      u.c.type.label("user_type"), t.orgs.c.primary_domain.label("user_org_domain"))
            .join(u, u.c.id == MB.c.user_id).join(t.orgs, t.orgs.c.id == u.c.org_id)
            .where(MB.c.level == target.level, MB.c.object_id == target.object_id))
