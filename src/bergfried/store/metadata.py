"""User metadata: key → bytes, one row per key."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.common import ObjectDetails
from bergfried.domain.metadata import Metadata, validate_key, validate_value
from bergfried.domain.users import User
from bergfried.errors import NotFound, PreconditionFailed
from bergfried.store import tables as t
from bergfried.store._common import changed
from bergfried.store.tx import Tx

M = t.user_metadata


async def set_many(tx: Tx, user: User, entries: list[Metadata]) -> ObjectDetails:
    """Set keys; setting the value a key already has writes no event (ZITADEL's rule)."""
    if not entries:
        raise PreconditionFailed("Errors.Metadata.NoData", "No metadata to set", error_id="META-9mw2d")
    for entry in entries:
        validate_key(entry.key)
        validate_value(entry.value)
    current = await get_all(tx.conn, user.id)
    sequence = None
    for entry in entries:
        if current.get(entry.key) == entry.value:
            continue
        sequence = await tx.event("user", user.id, "user.metadata.set",
                                  {"key": entry.key, "value": entry.value.hex()}, resource_owner=user.org_id)
        values = {"value": entry.value, "changed_at": tx.now, "sequence": sequence}
        if entry.key in current:
            await tx.conn.execute(M.update().where(M.c.user_id == user.id, M.c.key == entry.key).values(**values))
        else:
            await tx.conn.execute(M.insert().values(user_id=user.id, key=entry.key, org_id=user.org_id,
                                                    created_at=tx.now, **values))
        current[entry.key] = entry.value
    if sequence is None:
        sequence = await _last_sequence(tx.conn, user.id)
    return changed(tx, sequence, user.org_id)


async def remove_many(tx: Tx, user: User, keys: list[str]) -> ObjectDetails:
    current = await get_all(tx.conn, user.id)
    missing = [key for key in keys if key not in current]
    if missing or not keys:
        raise NotFound("Errors.Metadata.KeyNotExisting", "Metadata key does not exist", error_id="META-9mw2d")
    sequence = 0
    for key in keys:
        sequence = await tx.event("user", user.id, "user.metadata.removed", {"key": key}, resource_owner=user.org_id)
        await tx.conn.execute(M.delete().where(M.c.user_id == user.id, M.c.key == key))
    return changed(tx, sequence, user.org_id)


async def remove_one(tx: Tx, user: User, key: str) -> ObjectDetails:
    if await get_one(tx.conn, user.id, key) is None:
        raise NotFound("Errors.Metadata.NotFound", "Metadata not found", error_id="META-ncnw3")
    return await remove_many(tx, user, [key])


async def get_all(conn: AsyncConnection, user_id: str) -> dict[str, bytes]:
    """All metadata of a user in key order: one indexed query (the primary key)."""
    rows = await conn.execute(sa.select(M.c.key, M.c.value).where(M.c.user_id == user_id).order_by(M.c.key))
    return {row.key: bytes(row.value) for row in rows}


async def get_one(conn: AsyncConnection, user_id: str, key: str) -> bytes | None:
    value = (await conn.execute(sa.select(M.c.value).where(M.c.user_id == user_id, M.c.key == key))).scalar()
    return bytes(value) if value is not None else None


async def _last_sequence(conn: AsyncConnection, user_id: str) -> int:
    return int((await conn.execute(sa.select(sa.func.coalesce(sa.func.max(M.c.sequence), 0))
                                   .where(M.c.user_id == user_id))).scalar_one())


def search(user_id: str) -> sa.Select[Any]:
    """The metadata rows of a user with their details, for the API's list calls to filter and page."""
    return sa.select(M.c.key, M.c.value, M.c.org_id, M.c.sequence, M.c.created_at, M.c.changed_at).where(
        M.c.user_id == user_id)


async def get_row(conn: AsyncConnection, user_id: str, key: str) -> Any | None:
    return (await conn.execute(search(user_id).where(M.c.key == key))).first()
