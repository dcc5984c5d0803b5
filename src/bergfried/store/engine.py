"""Engines for SQLite and PostgreSQL, set up the same way wherever they are made.

SQLite: WAL, foreign keys on, a busy timeout, and write transactions opened with
`BEGIN IMMEDIATE` so two writers queue instead of failing on a lock upgrade.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

WRITE_OPTION = "bergfried_write"
# A connection of `Store.read`: on SQLite it begins no transaction (each statement is its own
# snapshot, as at READ COMMITTED on PostgreSQL).
READ_OPTION = "bergfried_read"
# A pooled PostgreSQL connection idle for longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 5.0
_IDLE_SINCE = "bergfried_idle_since"
_WAL_ATTEMPTS = 100  # about 5 s in all


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def create_engine(url: str, *, pool_size: int = 10, schema: str | None = None, echo: bool = False) -> AsyncEngine:
    """`schema` puts every table of a PostgreSQL engine in that schema (tests use one per run)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread: store/fast.py reads on the event loop's thread, on a connection the
        # reading task holds (aiosqlite's own thread is idle meanwhile; SQLite is serialized).
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        if path is not None:  # a file: a fixed pool too (each aiosqlite connection is a thread)
            kwargs.update(pool_size=pool_size, max_overflow=0)
        kwargs["pool_reset_on_return"] = None  # `_on_reset` below: a rollback only when one is due
        engine = create_async_engine(url, **kwargs)
        _setup_sqlite(engine)
        return engine
    # No overflow: a connection past the pool would be closed on its return as soon as `pool_size`
    # sit idle, and under load that meant a new connection (TLS attempt, backend fork, statements
    # prepared again) every few requests. The same 20 connections as 10 + 10 overflow before.
    kwargs.update(pool_size=pool_size, max_overflow=0)
    # No JIT: every statement here is a handful of index probes, and a misestimated row count
    # (statistics not yet gathered after a bulk import, or a skewed sample) can push the plan's
    # cost past `jit_above_cost`; compiling then took 350 ms for a 1 ms lookup (bench/README.md).
    server_settings = {"jit": "off"}
    if schema:
        server_settings["search_path"] = schema
    kwargs["connect_args"] = {"server_settings": server_settings}
    engine = create_async_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Pessimistic disconnect handling, but only for connections that sat idle: SQLAlchemy's
    `pool_pre_ping` pings on every checkout, and on asyncpg a ping is three round trips (`BEGIN`,
    `;`, `ROLLBACK`), as many as the request's own reads. A connection used within the last few
    seconds is handed out as it is; if the server went away meanwhile, the first statement fails
    as a disconnect, SQLAlchemy invalidates the whole pool, that request answers 503
    (store/tx.py) and the next one connects afresh (tests/faults/test_postgres_down.py)."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:  # any failure: the pool drops this connection and takes another
            raise DisconnectionError("the pooled connection did not answer a ping") from exc


def _setup_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        options = connection.get_execution_options()
        if options.get(READ_OPTION, False):
            return
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION, False) else "BEGIN")

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, _state: Any) -> None:
        """The pool's reset on return, but without a trip through aiosqlite's thread (about
        150 µs of CPU) when no transaction is open, which is every read's case."""
        if dbapi_connection.driver_connection.in_transaction:
            dbapi_connection.rollback()


def _enable_wal(cursor: Any) -> None:
    """Switch a new database file to WAL. The switch needs an exclusive lock and SQLite answers
    "database is locked" at once, without the busy handler, when another connection is making the
    same switch (two processes starting on a fresh file), so retry for a few seconds. Once the
    file is in WAL mode the pragma is a no-op and succeeds on the first try."""
    for attempt in range(_WAL_ATTEMPTS):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == _WAL_ATTEMPTS - 1:
                raise
            time.sleep(0.05)  # only while connecting to a file another process is setting up
