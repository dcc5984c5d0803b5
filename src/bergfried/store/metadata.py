"""User and organization metadata: key → bytes, one row per key. Both follow the same rules, so
one set of functions serves both through an `Owner` (which table, whose rows, which aggregate)."""

from __future__ import annotations

from dataclasses import dataclass
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
OM = t.org_metadata


@dataclass(frozen=True, slots=True)
class Owner:
    table: sa.Table
    column: str  # user_id | org_id
    aggregate: str  # user | org
    id: str
    org_id: str

    @property
    def where(self) -> Any:
        return self.table.c[self.column] == self.id


def of_user(user: User) -> Owner:
    return Owner(M, "user_id", "user", user.id, user.org_id)


def of_org(org_id: str) -> Owner:
    return Owner(OM, "org_id", "org", org_id, org_id)


async def set_for(tx: Tx, owner: Owner, entries: list[Metadata]) -> ObjectDetails:
    """Set keys; setting the value a key already has writes no event (ZITADEL's rule)."""
    if not entries:
        raise PreconditionFailed("Errors.Metadata.NoData", "No metadata to set", error_id="META-9mw2d")
    for entry in entries:
        validate_key(entry.key)
        validate_value(entry.value)
    table = owner.table
    current = await _all(tx.conn, owner)
    sequence = None
    for entry in entries:
        if current.get(entry.key) == entry.value:
            continue
        sequence = await tx.event(owner.aggregate, owner.id, f"{owner.aggregate}.metadata.set",
                                  {"key": entry.key, "value": entry.value.hex()}, resource_owner=owner.org_id)
        values = {"value": entry.value, "changed_at": tx.now, "sequence": sequence}
        if entry.key in current:
            await tx.conn.execute(table.update().where(owner.where, table.c.key == entry.key).values(**values))
        else:
            row = {"user_id": owner.id, "org_id": owner.org_id} if owner.column == "user_id" else {"org_id": owner.id}
            await tx.conn.execute(table.insert().values(key=entry.key, created_at=tx.now, **row, **values))
        current[entry.key] = entry.value
    if sequence is None:
        sequence = int((await tx.conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.sequence), 0))
                                              .where(owner.where))).scalar_one())
    return changed(tx, sequence, owner.org_id)


async def remove_for(tx: Tx, owner: Owner, keys: list[str]) -> ObjectDetails:
    current = await _all(tx.conn, owner)
    missing = [key for key in keys if key not in current]
    if missing or not keys:
        raise NotFound("Errors.Metadata.KeyNotExisting", "Metadata key does not exist", error_id="META-9mw2d")
    sequence = 0
    for key in keys:
        sequence = await tx.event(owner.aggregate, owner.id, f"{owner.aggregate}.metadata.removed", {"key": key},
                                  resource_owner=owner.org_id)
        await tx.conn.execute(owner.table.delete().where(owner.where, owner.table.c.key == key))
    return changed(tx, sequence, owner.org_id)


async def remove_one_for(tx: Tx, owner: Owner, key: str) -> ObjectDetails:
    if key not in await _all(tx.conn, owner):
        raise NotFound("Errors.Metadata.NotFound", "Metadata not found", error_id="META-ncnw3")
    return await remove_for(tx, owner, [key])


async def _all(conn: AsyncConnection, owner: Owner) -> dict[str, bytes]:
    table = owner.table
    rows = await conn.execute(sa.select(table.c.key, table.c.value).where(owner.where).order_by(table.c.key))
    return {row.key: bytes(row.value) for row in rows}


def search_for(owner: Owner) -> sa.Select[Any]:
    """The metadata rows with their details, for the API's list calls to filter and page."""
    table = owner.table
    return sa.select(table.c.key, table.c.value, table.c.org_id, table.c.sequence, table.c.created_at,
                     table.c.changed_at).where(owner.where)


# --- users (the names the rest of the code uses) ----------------------------------------------

async def set_many(tx: Tx, user: User, entries: list[Metadata]) -> ObjectDetails:
    return await set_for(tx, of_user(user), entries)


async def remove_many(tx: Tx, user: User, keys: list[str]) -> ObjectDetails:
    return await remove_for(tx, of_user(user), keys)


async def remove_one(tx: Tx, user: User, key: str) -> ObjectDetails:
    return await remove_one_for(tx, of_user(user), key)


async def get_all(conn: AsyncConnection, user_id: str) -> dict[str, bytes]:
    """All metadata of a user in key order: one indexed query (the primary key)."""
    rows = await conn.execute(sa.select(M.c.key, M.c.value).where(M.c.user_id == user_id).order_by(M.c.key))
    return {row.key: bytes(row.value) for row in rows}


async def get_one(conn: AsyncConnection, user_id: str, key: str) -> bytes | None:
    value = (await conn.execute(sa.select(M.c.value).where(M.c.user_id == user_id, M.c.key == key))).scalar()
    return bytes(value) if value is not None else None


def search(user_id: str) -> sa.Select[Any]:
    return sa.select(M.c.key, M.c.value, M.c.org_id, M.c.sequence, M.c.created_at, M.c.changed_at).where(
        M.c.user_id == user_id)


async def get_row(conn: AsyncConnection, user_id: str, key: str) -> Any | None:
    return (await conn.execute(search(user_id).where(M.c.key == key))).first()
