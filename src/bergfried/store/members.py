"""Members: manager roles of users on the instance, an organization, a project or a project grant."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.common import ObjectDetails
from bergfried.domain.ids import UserId
from bergfried.domain.members import Member, MemberLevel, validate_member_roles
from bergfried.store import tables as t
from bergfried.store._common import added, changed, unique
from bergfried.store.tx import Tx

MB = t.members


async def add(tx: Tx, level: MemberLevel, object_id: str, user_id: str, roles: list[str],
              *, org_id: str | None) -> ObjectDetails:
    valid = validate_member_roles(level, roles)
    sequence = await tx.event(level.value, object_id, f"{level.value}.member.added",
                              {"userId": user_id, "roles": list(valid)}, resource_owner=org_id)
    async with unique(tx, "Errors.Member.AlreadyExists", "Member already exists", "COMMAND-PtXi1"):
        await tx.conn.execute(MB.insert().values(
            level=level, object_id=object_id, user_id=user_id, roles=list(valid), org_id=org_id,
            created_at=tx.now, changed_at=tx.now, sequence=sequence,
        ))
    return added(tx, sequence, org_id or object_id)


async def remove(tx: Tx, level: MemberLevel, object_id: str, user_id: str, *, org_id: str | None) -> ObjectDetails:
    sequence = await tx.event(level.value, object_id, f"{level.value}.member.removed", {"userId": user_id},
                              resource_owner=org_id)
    await tx.conn.execute(MB.delete().where(MB.c.level == level, MB.c.object_id == object_id,
                                            MB.c.user_id == user_id))
    return changed(tx, sequence, org_id or object_id)


async def of_user(conn: AsyncConnection, user_id: str) -> list[Member]:
    """Every membership of a user: what the API's permission check starts from (one indexed query)."""
    rows = await conn.execute(sa.select(MB).where(MB.c.user_id == user_id).order_by(MB.c.level, MB.c.object_id))
    return [Member(level=MemberLevel(r.level), object_id=r.object_id, user_id=UserId(r.user_id),
                   roles=tuple(r.roles)) for r in rows]


async def of_object(conn: AsyncConnection, level: MemberLevel, object_id: str) -> list[Member]:
    rows = await conn.execute(sa.select(MB).where(MB.c.level == level, MB.c.object_id == object_id)
                              .order_by(MB.c.user_id))
    return [Member(level=MemberLevel(r.level), object_id=r.object_id, user_id=UserId(r.user_id),
                   roles=tuple(r.roles)) for r in rows]


async def in_context(conn: AsyncConnection, user_id: str, org_id: str) -> list[Member]:
    """The memberships that count for a call on `org_id` (ZITADEL's `SearchMyMemberships`): the
    instance ones, and those whose resource owner is that organization (the org itself, its
    projects and project grants). One indexed query."""
    rows = await conn.execute(sa.select(MB).where(
        MB.c.user_id == user_id, sa.or_(MB.c.level == MemberLevel.INSTANCE, MB.c.org_id == org_id)))
    return [Member(level=MemberLevel(r.level), object_id=r.object_id, user_id=UserId(r.user_id),
                   roles=tuple(r.roles)) for r in rows]
