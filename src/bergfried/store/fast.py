"""The hot paths' reads, sent straight to asyncpg on PostgreSQL (issue 10 §3: prepared statements).

SQLAlchemy's async layer costs about 60 µs of CPU per statement on top of asyncpg's 40 (a
greenlet switch, the DBAPI cursor emulation, the result's row objects): more than the query
costs PostgreSQL. For the few statements every token, userinfo and introspection runs, `first()`
compiles the prebuilt statement once, binds with SQLAlchemy's own bind processors, runs it on the
pooled connection's asyncpg connection (which prepares it once per connection and keeps it), and
turns the record into a row with SQLAlchemy's own result processors. The statement is the same
SQLAlchemy object, so what it asks and what it means does not change. On SQLite the same
compiled statement runs on the connection's `sqlite3` object directly (`_first_sqlite`).

Errors keep their meaning: a lost connection (or one asyncpg no longer trusts) is invalidated in the pool and raised as
SQLAlchemy's `DBAPIError` with `connection_invalidated`, so `Store.read` answers 503 as before
(tests/faults), and any other database error is raised as a `DBAPIError` too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # positional parameter names
    literals: dict[str, Any]  # the statement's own bound values (constants), processed
    binds: dict[str, Callable[[Any], Any]]
    columns: tuple[str, ...]
    results: tuple[Callable[[Any], Any] | None, ...]


class Row:
    """What the callers read of a SQLAlchemy `Row`: attributes by column name, and `_mapping`."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: dict[str, Any]) -> None:
        self._mapping = mapping

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


_compiled: dict[tuple[int, str], tuple[sa.ClauseElement, _Compiled]] = {}
# Called with each statement sent this way, as SQLAlchemy's `before_cursor_execute` is for the
# others (the tests that count a hot path's statements listen to both).
observers: list[Callable[[str], None]] = []


def _compile(statement: sa.ClauseElement, dialect: Any) -> _Compiled:
    key = (id(statement), dialect.name)
    cached = _compiled.get(key)
    if cached is not None and cached[0] is statement:
        return cached[1]
    compiled: Any = statement.compile(dialect=dialect)
    binds: dict[str, Callable[[Any], Any]] = dict(compiled._bind_processors)
    defaults = compiled.construct_params(_check=False)
    names = tuple(compiled.positiontup or ())
    literals = {}
    for name in names:
        value = defaults.get(name)
        bound = compiled.binds.get(name)
        if bound is not None and not bound.required and bound.callable is None and value is not None:
            processor = binds.get(name)
            literals[name] = processor(value) if processor else value
    columns = tuple(entry.keyname for entry in compiled._result_columns)
    results = tuple(entry.type._cached_result_processor(dialect, None) for entry in compiled._result_columns)
    made = _Compiled(compiled.string, names, literals, binds, columns, results)
    _compiled[key] = (statement, made)
    return made


def _args(made: _Compiled, params: Mapping[str, Any]) -> list[Any]:
    args = []
    for name in made.names:
        if name in params:
            value = params[name]
            processor = made.binds.get(name)
            args.append(processor(value) if processor else value)
        else:
            args.append(made.literals[name])
    return args


async def explain(conn: AsyncConnection, statement: sa.Select[Any], params: Mapping[str, Any]) -> list[str]:
    """PostgreSQL's plan for the statement as `first` sends it (bench/: index scans only)."""
    made = _compile(statement, conn.dialect)
    fairy = await conn.get_raw_connection()
    raw: asyncpg.Connection = fairy.driver_connection
    return [str(record[0]) for record in await raw.fetch("EXPLAIN " + made.sql, *_args(made, params))]


def _row(made: _Compiled, record: Any) -> Row:
    return Row({name: (process(value) if process else value)
                for name, process, value in zip(made.columns, made.results, record, strict=True)})


async def first(conn: AsyncConnection, statement: sa.ClauseElement, params: Mapping[str, Any]) -> Any | None:
    """The first row of `statement` with `params`, or None."""
    made = _compile(statement, conn.dialect)
    args = _args(made, params)
    for observe in observers:
        observe(made.sql)
    fairy = await conn.get_raw_connection()
    if conn.dialect.name == "sqlite":
        return _first_sqlite(made, args, fairy.driver_connection)
    raw: asyncpg.Connection = fairy.driver_connection
    try:
        record = await raw.fetchrow(made.sql, *args)
    except (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError) as exc:
        # Anything but a query's own error means the connection cannot be trusted. One case is a
        # server shutting down: its FATAL goodbye can reach asyncpg while the connection sits in
        # the pool, before the socket closes. asyncpg then refuses the next statement with an
        # InternalClientError ("another operation (2) is in progress"), not a connection error.
        lost = raw.is_closed() or not isinstance(exc, asyncpg.PostgresError) \
            or isinstance(exc, asyncpg.PostgresConnectionError)
        if lost:
            await conn.invalidate(exc)
        raise DBAPIError(made.sql, None, exc, connection_invalidated=lost) from exc
    return _row(made, record) if record is not None else None


def _first_sqlite(made: _Compiled, args: list[Any], driver: Any) -> Any | None:
    """SQLite: the statement runs on the event loop's thread, on the connection this task holds
    (opened with `check_same_thread=False`, store/engine.py). aiosqlite would hand it to the
    connection's thread and back, twice (execute, fetch): more CPU than the read. A read in WAL
    mode does not wait for writers, so nothing blocks the loop but the read itself."""
    raw: sqlite3.Connection = driver._conn  # aiosqlite's Connection keeps its sqlite3 object here
    try:
        record = raw.execute(made.sql, args).fetchone()
    except sqlite3.Error as exc:
        raise DBAPIError(made.sql, None, exc) from exc
    return _row(made, record) if record is not None else None


async def write_sqlite(conn: AsyncConnection, statement: sa.ClauseElement, params: Mapping[str, Any]) -> None:
    """SQLite, inside `Store.write`'s transaction: an INSERT or UPDATE whose result nobody reads,
    on the event loop's thread like the reads (store/deferred.py). The transaction began with
    `BEGIN IMMEDIATE`, so it already holds the database's write lock: the statement never waits
    for another writer, and aiosqlite's two trips through its thread are saved."""
    made = _compile(statement, conn.dialect)
    args = _args(made, params)
    for observe in observers:
        observe(made.sql)
    driver: Any = (await conn.get_raw_connection()).driver_connection
    raw: sqlite3.Connection = driver._conn  # as in `_first_sqlite`
    assert raw.in_transaction, "write_sqlite runs inside a write transaction only"
    try:
        raw.execute(made.sql, args)
    except sqlite3.IntegrityError as exc:
        raise IntegrityError(made.sql, None, exc) from exc
    except sqlite3.Error as exc:
        raise DBAPIError(made.sql, None, exc) from exc
