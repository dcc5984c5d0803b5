"""Counting the SELECTs a piece of code sends, whichever way they go: through SQLAlchemy
(`before_cursor_execute`) or straight to asyncpg (`bergfried.store.fast`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bergfried.store import fast


@contextmanager
def selects(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def observe(statement: str) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        observe(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    fast.observers.append(observe)
    try:
        yield seen
    finally:
        fast.observers.remove(observe)
        event.remove(engine.sync_engine, "before_cursor_execute", count)
