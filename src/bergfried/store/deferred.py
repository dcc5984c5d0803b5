"""Deferred inserts: the rows a write transaction adds without reading them back (`Tx.defer`),
sent as one statement when it commits.

A token response used to cost `BEGIN`, an INSERT per row (the event, the access token, the
refresh token) and `COMMIT`: a round trip each, and on this hot path the round trips were most
of the CPU (bench/README.md). On PostgreSQL the rows now go as one statement whose common table
expressions each insert one row (data-modifying `WITH`, which PostgreSQL runs exactly once
each, referenced or not). When nothing else was written in the transaction, asyncpg has not
begun one (SQLAlchemy begins lazily at the first statement): the one statement then runs on
its own, atomic as any single statement, and `BEGIN` and `COMMIT` are never sent. SQLite has no
data-modifying `WITH`; there the rows are inserted one by one inside the transaction, on the
event loop's thread (`fast.write_sqlite`: the transaction holds the write lock already).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.store import fast


@lru_cache(maxsize=64)  # a handful of shapes: which rows, which columns
def _combined(shape: tuple[tuple[sa.Insert, tuple[str, ...]], ...]) -> sa.Select[Any]:
    """`WITH w0 AS (INSERT …), w1 AS (INSERT …) … SELECT 1`, each value a parameter `w{i}_{column}`
    typed as its column (so SQLAlchemy's bind processors apply, JSON and timestamps alike)."""
    ctes = []
    for i, (insert, names) in enumerate(shape):
        table = insert.table
        assert isinstance(table, sa.Table)
        values = {name: sa.bindparam(f"w{i}_{name}", type_=table.c[name].type) for name in names}
        ctes.append(sa.insert(table).values(values).cte(f"w{i}"))
    return sa.select(sa.literal(1).label("written")).add_cte(*ctes)


@lru_cache(maxsize=64)
def _single(insert: sa.Insert, names: tuple[str, ...]) -> sa.Insert:
    """The INSERT of exactly these columns (compiled once; the others take their defaults)."""
    table = insert.table
    assert isinstance(table, sa.Table)
    return sa.insert(table).values({name: sa.bindparam(name, type_=table.c[name].type) for name in names})


async def flush(conn: AsyncConnection, rows: list[tuple[sa.Insert, dict[str, Any]]]) -> None:
    if conn.dialect.name != "postgresql":  # inside the transaction, on the loop's thread
        for insert, values in rows:
            await fast.write_sqlite(conn, _single(insert, tuple(sorted(values))), values)
        return
    shape = tuple((insert, tuple(sorted(values))) for insert, values in rows)
    params = {f"w{i}_{name}": value for i, (_, values) in enumerate(rows) for name, value in values.items()}
    statement = _combined(shape)
    raw: asyncpg.Connection = (await conn.get_raw_connection()).driver_connection
    if raw.is_in_transaction():
        await conn.execute(statement, params)
    else:  # nothing else written: one statement, no BEGIN and no COMMIT
        await fast.first(conn, statement, params)
