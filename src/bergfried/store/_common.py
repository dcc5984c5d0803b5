"""Helpers every repository shares: details from a row, unique-violation translation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bergfried.domain.common import ObjectDetails
from bergfried.errors import AlreadyExists
from bergfried.store.tx import Tx


def details_of(row: Mapping[str, Any], resource_owner: str) -> ObjectDetails:
    return ObjectDetails(
        sequence=int(row["sequence"]),
        creation_date=row["created_at"],
        change_date=row["changed_at"],
        resource_owner=resource_owner,
    )


def added(tx: Tx, sequence: int, resource_owner: str) -> ObjectDetails:
    """An add answer fills the creation date only (ZITADEL's converter rule)."""
    return ObjectDetails(sequence=sequence, creation_date=tx.now, change_date=None, resource_owner=resource_owner)


def changed(tx: Tx, sequence: int, resource_owner: str) -> ObjectDetails:
    """A change or remove answer fills the change date only."""
    return ObjectDetails(sequence=sequence, creation_date=None, change_date=tx.now, resource_owner=resource_owner)


@asynccontextmanager
async def unique(tx: Tx, key: str, description: str, error_id: str) -> AsyncIterator[None]:
    """Run an insert in a savepoint; a unique violation becomes ALREADY_EXISTS and leaves the
    surrounding transaction usable."""
    try:
        async with tx.conn.begin_nested():
            yield
    except IntegrityError as exc:
        raise AlreadyExists(key, description, error_id=error_id, detail=str(exc.orig)) from None


async def touch(tx: Tx, table: sa.Table, where: Any, sequence: int, **values: Any) -> int:
    """Update a row's values, its change date and sequence; returns the row count."""
    result = await tx.conn.execute(
        table.update().where(where).values(changed_at=tx.now, sequence=sequence, **values)
    )
    return result.rowcount


async def current(conn: Any, table: sa.Table, where: Any, resource_owner: str) -> ObjectDetails:
    """The details of an object a change left as it was (ZITADEL answers its write model's sequence
    and date and writes no event)."""
    row = (await conn.execute(sa.select(table.c.sequence, table.c.changed_at).where(where))).one()
    return ObjectDetails(sequence=int(row.sequence), creation_date=None, change_date=row.changed_at,
                         resource_owner=resource_owner)
