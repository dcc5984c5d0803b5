"""SQLite reads begin no transaction and the pool rolls back only what is open (store/engine.py,
store/tx.py): a read's BEGIN and the pool's ROLLBACK on return were each a trip through
aiosqlite's thread, more CPU than the read. What must still hold: a connection returned with a
transaction open is rolled back before anyone else gets it, and a read sees committed writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from bergfried.store import fast
from bergfried.store.engine import create_engine
from bergfried.store.tx import Store

ONE = sa.select(sa.literal(1).label("one"))


@pytest.fixture
async def store(tmp_path: Path) -> Store:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}", pool_size=1)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    return Store(engine)


async def test_a_read_opens_no_transaction(store: Store) -> None:
    async with store.read() as conn:
        assert (await fast.first(conn, ONE, {})).one == 1
        assert (await conn.execute(sa.text("SELECT count(*) FROM notes"))).scalar_one() == 0
        raw = (await conn.get_raw_connection()).driver_connection
        assert not raw.in_transaction
    await store.engine.dispose()


async def test_a_transaction_left_open_is_rolled_back_on_return(store: Store) -> None:
    """The pool's reset still rolls back what a connection brings back open (pool size 1: the
    next checkout is the same connection)."""
    async with store.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        await raw.execute("BEGIN IMMEDIATE")  # behind SQLAlchemy's back, as a bug would
        await raw.execute("INSERT INTO notes (text) VALUES ('uncommitted')")
        assert raw.in_transaction
    async with store.read() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert not raw.in_transaction
        assert (await conn.execute(sa.text("SELECT count(*) FROM notes"))).scalar_one() == 0
    async with store.write() as tx:  # and the write lock is free
        await tx.conn.execute(sa.text("INSERT INTO notes (text) VALUES ('committed')"))
    async with store.read() as conn:
        assert (await conn.execute(sa.text("SELECT text FROM notes"))).scalars().all() == ["committed"]
    await store.engine.dispose()
