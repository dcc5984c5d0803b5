"""Shared fixtures: the same tests run on real SQLite and real PostgreSQL.

PostgreSQL: every test gets a schema of its own in the database `test` (or the server named by
`BERGFRIED_TEST_POSTGRES_URL`), migrated from empty and dropped afterwards, so parallel workers
and concurrent runs never collide. SQLite: a fresh file per test.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bergfried import services as services_module
from bergfried.services import Services
from bergfried.settings import load_settings
from bergfried.store.engine import create_engine
from bergfried.store.migrate import migrate
from bergfried.store.tx import Store

POSTGRES_URL = os.environ.get("BERGFRIED_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
ENGINES = ["sqlite", "postgresql"]
MASTERKEY = "0123456789abcdef0123456789abcdef"


def new_schema_name() -> str:
    return f"t_{secrets.token_hex(6)}"


async def _pg_admin(statement: str) -> None:
    engine = create_engine(POSTGRES_URL)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


class Database:
    """A fresh, migrated database for one test on one engine."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.schema: str | None = None
        if kind == "sqlite":
            self.url = f"sqlite+aiosqlite:///{tmp_path / 'bergfried.db'}"
        else:
            self.url = POSTGRES_URL
            self.schema = new_schema_name()

    def engine(self) -> AsyncEngine:
        return create_engine(self.url, schema=self.schema, pool_size=5)

    async def create(self) -> None:
        if self.schema:
            await _pg_admin(f'CREATE SCHEMA "{self.schema}"')

    async def drop(self) -> None:
        if self.schema:
            await _pg_admin(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


@pytest.fixture(params=ENGINES)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database (no tables yet) on each engine."""
    db = Database(request.param, tmp_path)
    await db.create()
    try:
        yield db
    finally:
        await db.drop()


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    """A migrated engine on each engine kind."""
    eng = database.engine()
    await migrate(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
async def store(engine: AsyncEngine) -> Store:
    return Store(engine)


def make_settings(tmp_path: Path, **overrides: Any) -> Any:
    values: dict[str, Any] = {"masterkey": MASTERKEY, "masterkey_file": str(tmp_path / "masterkey"),
                              "outbox_worker": False}  # tests drive delivery with deliver_batch
    values.update(overrides)
    return load_settings(values, environ={})


@pytest.fixture
async def services(engine: AsyncEngine, tmp_path: Path) -> Services:
    """Services over the migrated test engine (shared, not closed by the app)."""
    return services_module.build(make_settings(tmp_path), engine=engine)


@pytest.fixture(params=ENGINES)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """What a user gives `BERGFRIED_DATABASE_URL` for a real `bergfried` process: a SQLite file or a
    fresh PostgreSQL database of its own (processes cannot share a test schema)."""
    from tests.processes import fresh_postgres_database  # tests.processes imports this module

    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bergfried.db'}"
        return
    async with fresh_postgres_database() as url:
        yield url


async def terminate_backend(url: str, pid: int) -> None:
    """End one PostgreSQL server process, as a restart or a network cut would for its client."""
    from bergfried.store.engine import create_engine

    admin = create_engine(url)
    try:
        async with admin.connect() as conn:
            await conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await conn.commit()
    finally:
        await admin.dispose()
