"""One transaction a request: `async with store.write(editor) as tx:` commits fully or not at all.

Every change goes through `tx.event(...)`, which appends to the `events` table inside the same
transaction, so the audit trail can never disagree with the data.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bergfried import logs
from bergfried.domain.ids import IdGenerator
from bergfried.errors import StoreUnavailable
from bergfried.store import deferred
from bergfried.store import tables as t
from bergfried.store.engine import READ_OPTION, WRITE_OPTION

Clock = Callable[[], datetime]
log = logs.get(__name__)

# The write transaction the running task holds: (task, engine, connection).
_held: ContextVar[tuple[asyncio.Task[object] | None, AsyncEngine, AsyncConnection] | None] = ContextVar(
    "bergfried_write_transaction", default=None)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Built once: every write appends an event, and building the statement cost more than sending it.
_INSERT_EVENT = t.events.insert().returning(t.events.c.sequence)
_INSERT_EVENT_ROW = t.events.insert()


@dataclass(slots=True)
class Tx:
    conn: AsyncConnection
    now: datetime
    editor: str | None
    ids: IdGenerator
    # Inserts nothing in this transaction reads back, sent together when it commits (`defer`).
    deferred: list[tuple[sa.Insert, dict[str, Any]]] = field(default_factory=list)

    def new_id(self) -> str:
        return self.ids.next()

    async def event(
        self,
        aggregate_type: str,
        aggregate_id: str,
        event_type: str,
        payload: dict[str, Any] | None = None,
        *,
        resource_owner: str | None,
    ) -> int:
        """Append one event and return its sequence (ZITADEL's `details.sequence`)."""
        values = self._event_values(aggregate_type, aggregate_id, event_type, payload, resource_owner)
        result = await self.conn.execute(_INSERT_EVENT, values)
        return int(result.scalar_one())

    def _event_values(self, aggregate_type: str, aggregate_id: str, event_type: str,
                      payload: dict[str, Any] | None, resource_owner: str | None) -> dict[str, Any]:
        return {"aggregate_type": aggregate_type, "aggregate_id": aggregate_id, "event_type": event_type,
                "payload": payload or {}, "editor_user_id": self.editor, "resource_owner": resource_owner,
                "created_at": self.now}

    def defer(self, insert: sa.Insert, values: dict[str, Any]) -> None:
        """Insert a row when the transaction commits, with the other deferred rows in one
        statement (store/deferred.py). For rows nothing reads back before the commit: the
        token endpoint's tokens and events, whose round trips were most of a token's cost."""
        self.deferred.append((insert, values))

    def defer_event(self, aggregate_type: str, aggregate_id: str, event_type: str,
                    payload: dict[str, Any] | None = None, *, resource_owner: str | None) -> None:
        """`event`, deferred: for a caller that has no use for the sequence."""
        self.defer(_INSERT_EVENT_ROW,
                   self._event_values(aggregate_type, aggregate_id, event_type, payload, resource_owner))


# PostgreSQL SQLSTATEs that say "not now" rather than "not this": connection exceptions (08…), an
# operator's intervention such as a shutdown or a starting server (57P…), insufficient resources
# (53…: disk full, out of memory, too many connections) and a read-only standby (25006).
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "57P", "53", "25006")
# SQLite's result codes of the same kind: a full disk, a read-only file or directory, an I/O error,
# a file that cannot be opened, a lock held past the busy timeout.
_UNAVAILABLE_SQLITE_ERRORS = ("SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_BUSY",
                              "SQLITE_LOCKED")


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 8:
        chain.append(current)
        orig = current.orig if isinstance(current, DBAPIError) else None  # what the driver raised
        current = orig or current.__cause__ or current.__context__
    return chain


def _is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OSError | ConnectionError):
        return True
    if isinstance(exc, InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    for cause in _causes(exc):
        sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES):
            return True
        name = getattr(cause, "sqlite_errorname", None)
        if isinstance(name, str) and name.startswith(_UNAVAILABLE_SQLITE_ERRORS):
            return True
        if isinstance(cause, OSError | ConnectionError) and cause is not exc:
            return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        return any(word in text for word in ("connect", "terminat", "shutdown", "shutting down", "closed"))
    return False


class Store:
    def __init__(self, engine: AsyncEngine, *, clock: Clock = utcnow, ids: IdGenerator | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.ids = ids or IdGenerator()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def write(self, editor: str | None = None) -> AsyncIterator[Tx]:
        self._warn_if_nested("write")
        try:
            async with self.engine.connect() as conn:
                conn = await conn.execution_options(**{WRITE_OPTION: True})
                async with conn.begin():
                    held = _held.set((asyncio.current_task(), self.engine, conn))
                    try:
                        tx = Tx(conn=conn, now=self.clock(), editor=editor, ids=self.ids)
                        yield tx
                        if tx.deferred:
                            await deferred.flush(conn, tx.deferred)
                    finally:
                        _held.reset(held)
        except (OSError, DBAPIError) as exc:
            if _is_unavailable(exc):
                raise StoreUnavailable("the database is not reachable") from exc
            raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        self._warn_if_nested("read")
        try:
            if self.engine.dialect.name == "postgresql":
                # At READ COMMITTED each statement takes its own snapshot, so BEGIN/ROLLBACK around a
                # read buy nothing but two round trips. The pool puts the isolation level back on
                # check-in. A read of several statements may see a write commit between them.
                async with self.engine.connect() as conn:
                    conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                    yield conn
            else:
                # SQLite: no BEGIN either (store/engine.py). A statement in WAL mode reads one
                # snapshot; BEGIN and the ROLLBACK on return were each a trip through aiosqlite's
                # thread, more CPU than the read itself.
                async with self.engine.connect() as conn:
                    yield await conn.execution_options(**{READ_OPTION: True})
        except (OSError, DBAPIError) as exc:
            if _is_unavailable(exc):
                raise StoreUnavailable("the database is not reachable") from exc
            raise

    def _warn_if_nested(self, kind: str) -> None:
        """A second pooled connection while this task holds a write transaction is a deadlock
        waiting for load (see `read_within`); say so in the log, where the tests look for it."""
        held = _held.get()
        if held is not None and held[0] is asyncio.current_task() and held[1] is self.engine:
            log.warning("nested_connection", kind=kind,
                        hint="inside a write transaction read with tx.conn or store.read_within()")

    @asynccontextmanager
    async def read_within(self) -> AsyncIterator[AsyncConnection]:
        """A read that may run inside a write transaction of the same task (the signing keys'
        cache reloads while a token is issued): it reads on that transaction's connection. A
        second connection would deadlock under load: once every pooled connection belongs to a
        transaction waiting for the one that needs another (a row lock on PostgreSQL, the write
        lock on SQLite), nobody moves until the pool's timeout."""
        held = _held.get()
        if held is not None and held[0] is asyncio.current_task() and held[1] is self.engine \
                and held[2].in_transaction():
            yield held[2]
            return
        async with self.read() as conn:
            yield conn

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            return True
        except Exception:  # readiness: any failure means "not ready"
            return False
