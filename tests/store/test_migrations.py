"""Migrations from an empty database, repeated, and from two processes at once, on both engines."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bergfried.store import tables as t
from bergfried.store.migrate import current_revision, head_revision, migrate
from tests.conftest import Database


async def _table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))


async def _version_rows(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).scalars())


async def test_migrate_from_empty_reaches_head_and_creates_every_table_and_column(database: Database) -> None:
    engine = database.engine()
    try:
        assert await _table_names(engine) == set()  # the fixture's database starts empty
        assert await current_revision(engine) is None
        head = head_revision()
        assert head is not None
        assert await migrate(engine) == head
        assert await current_revision(engine) == head
        names = await _table_names(engine)
        missing = set(t.metadata.tables) - names
        assert not missing, f"tables missing after migrate: {sorted(missing)}"
        assert "alembic_version" in names

        def columns(sync: sa.Connection) -> dict[str, set[str]]:
            inspector = sa.inspect(sync)
            return {name: {c["name"] for c in inspector.get_columns(name)} for name in t.metadata.tables}

        async with engine.connect() as conn:
            found = await conn.run_sync(columns)
        for name, table in t.metadata.tables.items():
            assert found[name] == {c.name for c in table.columns}, name
    finally:
        await engine.dispose()


async def test_migrate_twice_is_a_no_op(database: Database) -> None:
    engine = database.engine()
    try:
        first = await migrate(engine)
        async with engine.begin() as conn:
            await conn.execute(sa.text(
                "INSERT INTO executions (condition, targets, created_at, changed_at, sequence) "
                "VALUES ('function/preuserinfo', '[]', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 7)"
            ))
        tables_before = await _table_names(engine)
        second = await migrate(engine)
        assert second == first == head_revision()
        assert await _table_names(engine) == tables_before
        assert await _version_rows(engine) == [head_revision()]
        async with engine.connect() as conn:
            kept = (await conn.execute(sa.text("SELECT sequence FROM executions"))).scalar_one()
        assert kept == 7  # nothing was dropped and re-created
    finally:
        await engine.dispose()


async def test_two_concurrent_migrations_on_one_database_both_succeed(database: Database) -> None:
    first, second = database.engine(), database.engine()
    try:
        results = await asyncio.gather(migrate(first), migrate(second))
        assert results == [head_revision(), head_revision()]
        assert await _version_rows(first) == [head_revision()]
        assert set(t.metadata.tables) <= await _table_names(second)
    finally:
        await first.dispose()
        await second.dispose()
