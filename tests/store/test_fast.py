"""`bergfried.store.fast`: the hot reads sent straight to the driver (asyncpg, or SQLite on the
loop's thread) give the rows SQLAlchemy gives (same columns, same processed values), and a lost
connection still reads as "unavailable"."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bergfried.claims import subject
from bergfried.domain.metadata import Metadata
from bergfried.errors import StoreUnavailable
from bergfried.store import apps, fast, metadata
from bergfried.store import tables as t
from bergfried.store.engine import create_engine
from bergfried.store.tx import Store
from tests.conftest import Database, terminate_backend
from tests.factories import make_org, make_project, make_user, make_web_app


@pytest.mark.rule("issue 10 §3: prepared statements on the hot paths, same answers")
async def test_the_fast_row_is_the_sqlalchemy_row(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org, password=None)
    app = await make_web_app(store, await make_project(store, org))
    async with store.write() as tx:
        await metadata.set_many(tx, user, [Metadata("k", b"\x00\xff v")])
    statements = [
        (subject._statement(store.dialect, True, True), {"user_id": user.id, "client_id": app.client_id}),
        (apps._BY_CLIENT_ID, {"client_id": app.client_id}),
        (sa.select(t.users).where(t.users.c.id == sa.bindparam("user_id")), {"user_id": user.id}),
    ]
    async with store.read() as conn:
        for statement, params in statements:
            slow = (await conn.execute(statement, params)).first()
            quick = await fast.first(conn, statement, params)
            assert slow is not None
            assert quick is not None
            assert dict(quick._mapping) == dict(slow._mapping)
            assert await fast.first(conn, statement, {**params, next(iter(params)): "404"}) is None


@pytest.mark.timeout(60)
async def test_a_lost_connection_is_unavailable_and_replaced(database: Database) -> None:
    if database.kind != "postgresql":
        pytest.skip("SQLite opens its file; there is no server connection to lose")
    engine = create_engine(database.url, schema=database.schema, pool_size=1)
    store = Store(engine)
    statement = sa.select(sa.func.pg_backend_pid().label("pid"))
    try:
        async with store.read() as conn:
            pid = (await fast.first(conn, statement, {})).pid
        await terminate_backend(database.url, pid)
        with pytest.raises(StoreUnavailable):
            async with store.read() as conn:
                await fast.first(conn, statement, {})
        async with store.read() as conn:  # the pool replaced it
            assert (await fast.first(conn, statement, {})).pid != pid
    finally:
        await engine.dispose()
