"""`bergfried.store.fast`: the hot reads sent straight to the driver (asyncpg, or SQLite on the
loop's thread) give the rows SQLAlchemy gives (same columns, same processed values), and a lost
connection still reads as "unavailable"."""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

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


async def _pid_fast(conn: AsyncConnection) -> int:
    return int((await fast.first(conn, _PID, {})).pid)


async def _pid_sqlalchemy(conn: AsyncConnection) -> int:
    return int((await conn.execute(_PID)).scalar_one())


_PID = sa.select(sa.func.pg_backend_pid().label("pid"))


def _goodbye() -> bytes:
    """The ErrorResponse a PostgreSQL backend sends before it closes the socket on shutdown."""
    fields = b"".join(code + text.encode() + b"\0" for code, text in (
        (b"S", "FATAL"), (b"V", "FATAL"), (b"C", "57P01"),
        (b"M", "terminating connection due to administrator command")))
    body = fields + b"\0"
    return b"E" + struct.pack("!i", len(body) + 4) + body


@pytest.mark.timeout(60)
@pytest.mark.parametrize("read", [_pid_fast, _pid_sqlalchemy], ids=["fast", "sqlalchemy"])
@pytest.mark.parametrize("goodbye_first", [False, True], ids=["terminated", "goodbye-before-close"])
async def test_a_lost_connection_is_unavailable_and_replaced(
        database: Database, read: Callable[[AsyncConnection], Awaitable[int]], goodbye_first: bool) -> None:
    """A pooled connection whose server process ended answers "unavailable" (503), and the pool
    replaces it. `goodbye_first`: the server's goodbye (an unsolicited FATAL 57P01 ErrorResponse)
    has reached asyncpg while the connection sat in the pool, and the socket's close has not yet.
    asyncpg then refuses the next statement with `InternalClientError` ("cannot switch to state
    12; another operation (2) is in progress"), not a connection error: the race the PostgreSQL
    stop under load (tests/faults/test_postgres_down.py) hit in CI. The goodbye is fed to the
    driver's protocol as the bytes the server sends, so the window is hit every time."""
    if database.kind != "postgresql":
        pytest.skip("SQLite opens its file; there is no server connection to lose")
    engine = create_engine(database.url, schema=database.schema, pool_size=1)
    store = Store(engine)
    try:
        async with store.read() as conn:
            pid = await read(conn)
            raw = (await conn.get_raw_connection()).driver_connection
        if goodbye_first:
            raw._protocol.data_received(_goodbye())
            assert not raw.is_closed()
        else:
            await terminate_backend(database.url, pid)
        with pytest.raises(StoreUnavailable):
            async with store.read() as conn:
                await read(conn)
        async with store.read() as conn:  # the pool replaced it
            assert await read(conn) != pid
    finally:
        await engine.dispose()


async def test_postgresql_connections_do_not_jit(database: Database) -> None:
    """store/engine.py: JIT off on every pooled PostgreSQL connection. With a misestimated row
    count the client_credentials lookup crossed `jit_above_cost` at 1M users and spent 350 ms
    compiling a statement that runs in 0.3 ms (bench/README.md, third pass)."""
    if database.kind != "postgresql":
        pytest.skip("SQLite has no JIT")
    engine = create_engine(database.url, schema=database.schema, pool_size=1)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(sa.text("SHOW jit"))).scalar_one() == "off"
            search_path = (await conn.execute(sa.text("SHOW search_path"))).scalar_one()
            assert database.schema is None or database.schema in search_path  # still set beside it
    finally:
        await engine.dispose()
