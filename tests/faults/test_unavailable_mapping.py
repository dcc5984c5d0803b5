"""Which database errors mean "the database is not available now" (503 with Retry-After) and which
are a plain failure: the drivers' own error codes decide, not the wording of the message."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from bergfried.errors import StoreUnavailable
from bergfried.store.engine import create_engine
from bergfried.store.tx import Store


def _sqlite_error(message: str, name: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorname = name
    return error


UNAVAILABLE = [
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),  # 57P03
    asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),  # 57P01
    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),  # 53300
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),  # 08003
    asyncpg.exceptions.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),  # 25006
    _sqlite_error("database or disk is full", "SQLITE_FULL"),
    _sqlite_error("attempt to write a readonly database", "SQLITE_READONLY"),
    _sqlite_error("disk I/O error", "SQLITE_IOERR_WRITE"),
]
NOT_UNAVAILABLE = [
    asyncpg.exceptions.UniqueViolationError("duplicate key value violates unique constraint"),  # 23505
    asyncpg.exceptions.UndefinedTableError('relation "users" does not exist'),  # 42P01
    _sqlite_error("no such table: users", "SQLITE_ERROR"),
]


@pytest.fixture
async def store(tmp_path: Path) -> Store:  # the driver error is raised by the test, not by a query
    return Store(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"))


@pytest.mark.rule("issue 11 §3: a database that is down, starting, shutting down, full or read-only is a 503")
@pytest.mark.parametrize("orig", UNAVAILABLE, ids=lambda e: f"{type(e).__name__}: {e}")
async def test_unavailable(store: Store, orig: Exception) -> None:
    for context in (store.read, store.write):
        with pytest.raises(StoreUnavailable):
            async with context():
                raise DBAPIError("SELECT 1", None, orig)
    await store.engine.dispose()


@pytest.mark.parametrize("orig", NOT_UNAVAILABLE, ids=lambda e: f"{type(e).__name__}: {e}")
async def test_other_errors_stay_what_they_are(store: Store, orig: Exception) -> None:
    with pytest.raises(DBAPIError) as raised:
        async with store.write():
            raise IntegrityError("INSERT", None, orig) if "duplicate" in str(orig) else DBAPIError("SELECT", None, orig)
    assert not isinstance(raised.value, StoreUnavailable)
    await store.engine.dispose()
