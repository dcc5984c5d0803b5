"""User metadata operations (spec/management-api.md §5.3): the user must belong to the context
organization; setting a value a key already has writes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.common import ObjectDetails
from bergfried.domain.metadata import Metadata
from bergfried.errors import NotFound
from bergfried.management.scope import user_for_command, user_for_query
from bergfried.store import metadata
from bergfried.store.tx import Tx


async def set_metadata(tx: Tx, org_id: str, user_id: str, entries: list[Metadata]) -> ObjectDetails:
    user = await user_for_command(tx.conn, user_id, org_id)
    return await metadata.set_many(tx, user, entries)


async def remove_metadata(tx: Tx, org_id: str, user_id: str, keys: list[str]) -> ObjectDetails:
    user = await user_for_command(tx.conn, user_id, org_id)
    return await metadata.remove_many(tx, user, keys)


async def remove_one(tx: Tx, org_id: str, user_id: str, key: str) -> ObjectDetails:
    user = await user_for_command(tx.conn, user_id, org_id)
    return await metadata.remove_one(tx, user, key)


async def get_metadata(conn: AsyncConnection, org_id: str, user_id: str, key: str) -> Any:
    await user_for_query(conn, user_id, org_id)
    row = await metadata.get_row(conn, user_id, key)
    if row is None:
        raise NotFound("Errors.Metadata.NotFound", "Metadata not found", error_id="QUERY-Rgh32")
    return row
