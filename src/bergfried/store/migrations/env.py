"""Alembic environment: always runs on a connection Bergfried hands over (see store/migrate.py)."""

from __future__ import annotations

from alembic import context

from bergfried.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
