"""A task never holds two pooled connections: the signing keys' cache reloads on the connection of
the write transaction it runs in. Two connections a task deadlock under load: every pooled
connection belongs to a transaction waiting for the one that needs another, until the pool's
timeout turns them all into 500s (found by the 50-request races of tests/scale/test_races.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog

from bergfried import services as services_module
from bergfried.store.engine import create_engine
from bergfried.store.tx import Store
from tests.conftest import Database, make_settings, terminate_backend


@pytest.mark.timeout(60)
async def test_the_key_cache_reloads_inside_a_transaction_without_a_second_connection(
        database: Database, tmp_path: Path) -> None:
    from bergfried.store.migrate import migrate

    engine = create_engine(database.url, schema=database.schema, pool_size=2)  # two connections at most
    try:
        await migrate(engine)
        services = services_module.build(make_settings(tmp_path), engine=engine)
        await services.keyring.ensure_key("RS256")
        both_inside = asyncio.Barrier(2) if database.kind == "postgresql" else None

        async def sign_inside_a_transaction(n: int) -> str:
            async with services.store.write() as tx:
                if both_inside is not None:  # PostgreSQL: both pooled connections are now taken
                    await asyncio.wait_for(both_inside.wait(), 10)
                services.keyring._snapshot = None  # the cache has expired
                async with services.store.read_within() as conn:
                    assert conn is tx.conn
                return await services.keyring.sign({"n": n})

        signed = await asyncio.wait_for(asyncio.gather(*(sign_inside_a_transaction(n) for n in range(2))), 20)
        assert all(token.count(".") == 2 for token in signed)
        async with services.store.read_within() as conn:  # outside a transaction: a read of its own
            # (no transaction on either database: a read's statements take their own snapshots)
            assert not conn.in_transaction()
            assert (await conn.execute(sa.text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_a_second_connection_inside_a_write_transaction_is_logged(store: Store) -> None:
    with structlog.testing.capture_logs() as logged:
        async with store.read():
            pass
        async with store.write() as tx, store.read_within() as conn:
            assert conn is tx.conn
        assert [entry for entry in logged if entry["event"] == "nested_connection"] == []
        async with store.write(), store.read() as conn:
            await conn.execute(sa.text("SELECT 1"))
    nested = [entry for entry in logged if entry["event"] == "nested_connection"]
    assert [entry["kind"] for entry in nested] == ["read"]


@pytest.mark.timeout(60)
@pytest.mark.rule("issue 10 §3: no ping round trips on a busy pool; a connection idle for long is pinged first")
async def test_an_idle_connection_is_pinged_and_a_busy_one_is_not(database: Database,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    if database.kind != "postgresql":
        pytest.skip("SQLite opens its file; there is no server connection to lose")
    from bergfried.errors import StoreUnavailable
    from bergfried.store import engine as engine_module

    engine = create_engine(database.url, schema=database.schema, pool_size=1)
    store = Store(engine)
    try:
        async def backend_pid() -> int:
            async with store.read() as conn:
                return int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())

        # Busy: the connection was used a moment ago, so it is handed out unpinged. Its server
        # process is gone, so the read fails as "unavailable" (503), and the pool starts afresh.
        await terminate_backend(database.url, await backend_pid())
        with pytest.raises(StoreUnavailable):
            await backend_pid()
        first = await backend_pid()

        # Idle: past the threshold the checkout pings, finds the connection dead and replaces it,
        # so the request never sees the lost connection.
        await terminate_backend(database.url, first)
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
        assert await backend_pid() != first
    finally:
        await engine.dispose()
