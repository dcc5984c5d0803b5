"""Policies set through the admin API (instance level, `scope_id` = instance id) or later per
organization; a missing row means the settings' defaults apply."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.common import ObjectDetails
from bergfried.store import tables as t
from bergfried.store._common import changed, details_of
from bergfried.store.tx import Tx

P = t.policies


async def get(conn: AsyncConnection, scope_id: str, kind: str) -> tuple[dict[str, Any], ObjectDetails] | None:
    row = (await conn.execute(sa.select(P).where(P.c.scope_id == scope_id, P.c.kind == kind))).mappings().first()
    if row is None:
        return None
    return dict(row["config"]), details_of(dict(row), scope_id)


async def put(tx: Tx, scope_id: str, kind: str, config: dict[str, Any], *, aggregate: str) -> ObjectDetails:
    """Replace the policy of `kind` with `config` (JSON-safe values) and write its event."""
    sequence = await tx.event(aggregate, scope_id, f"{aggregate}.policy.{kind}.changed", config,
                              resource_owner=scope_id)
    done = await tx.conn.execute(P.update().where(P.c.scope_id == scope_id, P.c.kind == kind).values(
        config=config, changed_at=tx.now, sequence=sequence))
    if not done.rowcount:
        await tx.conn.execute(P.insert().values(scope_id=scope_id, kind=kind, config=config, created_at=tx.now,
                                                changed_at=tx.now, sequence=sequence))
    return changed(tx, sequence, scope_id)
