"""Apply Alembic migrations on a live engine, safely from several processes at once.

On PostgreSQL a session advisory lock serialises processes that start together; on SQLite the
`BEGIN IMMEDIATE` write transaction does the same.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bergfried.store.engine import WRITE_OPTION

MIGRATIONS = Path(__file__).with_name("migrations")
_LOCK_ID = 0x62657267  # "berg"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def migrate(engine: AsyncEngine) -> str | None:
    """Bring the schema to the newest revision; returns it."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(**{WRITE_OPTION: True})
        if engine.dialect.name == "postgresql":
            await conn.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": _LOCK_ID})
            await conn.commit()
        try:
            async with conn.begin():
                await conn.run_sync(_upgrade)
            async with conn.begin():
                return await conn.run_sync(_current)
        finally:
            if engine.dialect.name == "postgresql":
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": _LOCK_ID})
                await conn.commit()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)
