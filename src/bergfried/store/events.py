"""Reading the append-only event log (writing goes through `Tx.event`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.store import tables as t


@dataclass(frozen=True, slots=True)
class Event:
    sequence: int
    aggregate_type: str
    aggregate_id: str
    event_type: str
    payload: dict[str, Any]
    editor_user_id: str | None
    resource_owner: str | None
    created_at: datetime


async def list_events(
    conn: AsyncConnection,
    *,
    aggregate_type: str | None = None,
    aggregate_id: str | None = None,
    after_sequence: int = 0,
    limit: int = 1000,
) -> list[Event]:
    query = sa.select(t.events).where(t.events.c.sequence > after_sequence)
    if aggregate_type is not None:
        query = query.where(t.events.c.aggregate_type == aggregate_type)
    if aggregate_id is not None:
        query = query.where(t.events.c.aggregate_id == aggregate_id)
    rows = (await conn.execute(query.order_by(t.events.c.sequence).limit(limit))).mappings()
    return [Event(**dict(row)) for row in rows]


async def latest_sequence(conn: AsyncConnection) -> int:
    return int((await conn.execute(sa.select(sa.func.coalesce(sa.func.max(t.events.c.sequence), 0)))).scalar_one())
