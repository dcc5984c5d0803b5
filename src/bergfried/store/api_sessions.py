"""Sessions of the v2 session service (spec/api-v2.md §3): rows of the same `sessions` table the
hosted login uses, without a browser (`user_agent_id` is NULL), with the factors as JSON, the
session's metadata, the user agent the caller reported, its creator, an optional expiry, and the
keyed hash of the latest session token.

Each create or set replaces `token_hash`, so only the newest token verifies. A change is one
conditional UPDATE on a live session; an ended or expired session is never changed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.common import ObjectDetails
from bergfried.store import tables as t
from bergfried.store._common import added, changed
from bergfried.store.sessions import AGGREGATE
from bergfried.store.tx import Tx

S = t.sessions


@dataclass(frozen=True, slots=True)
class ApiSession:
    id: str
    user_id: str | None
    creator_id: str | None
    token_hash: str | None
    factors: dict[str, Any]  # {"user": {"id", "verifiedAt"}, "password": {"verifiedAt"}}
    metadata: dict[str, str]  # key → base64 value
    user_agent: dict[str, Any] | None
    created_at: datetime
    changed_at: datetime
    sequence: int
    expires_at: datetime | None
    terminated_at: datetime | None
    password_checked_at: datetime | None

    def live(self, now: datetime) -> bool:
        return self.terminated_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True, slots=True)
class Change:
    """The state a create or set leaves behind, and the events that record it."""

    token_hash: str
    user_id: str | None
    factors: dict[str, Any]
    metadata: dict[str, str]
    expires_at: datetime | None
    password_checked_at: datetime | None
    events: list[tuple[str, dict[str, Any]]]


def _session(row: Any) -> ApiSession:
    return ApiSession(
        id=row.id, user_id=row.user_id, creator_id=row.creator_id, token_hash=row.token_hash,
        factors=dict(row.factors or {}), metadata=dict(row.metadata or {}), user_agent=row.user_agent,
        created_at=row.created_at, changed_at=row.changed_at, sequence=int(row.sequence),
        expires_at=row.expires_at, terminated_at=row.terminated_at, password_checked_at=row.password_checked_at,
    )


async def get(conn: AsyncConnection, session_id: str) -> ApiSession | None:
    row = (await conn.execute(sa.select(S).where(S.c.id == session_id))).first()
    return _session(row) if row is not None else None


async def _record(tx: Tx, session_id: str, change: Change, owner: str) -> int:
    sequence = 0
    for event_type, payload in change.events:
        sequence = await tx.event(AGGREGATE, session_id, event_type, payload, resource_owner=owner)
    return sequence


async def create(tx: Tx, change: Change, *, creator_id: str, user_agent: dict[str, Any] | None,
                 owner: str) -> tuple[str, ObjectDetails]:
    session_id = tx.new_id()
    sequence = await _record(tx, session_id, change, owner)
    await tx.conn.execute(S.insert().values(
        id=session_id, user_id=change.user_id, user_agent_id=None, token_hash=change.token_hash,
        password_checked_at=change.password_checked_at, factors=change.factors, metadata=change.metadata,
        expires_at=change.expires_at, creator_id=creator_id, user_agent=user_agent,
        created_at=tx.now, changed_at=tx.now, sequence=sequence,
    ))
    return session_id, added(tx, sequence, owner)


async def update(tx: Tx, session_id: str, change: Change, *, owner: str) -> ObjectDetails | None:
    """None when the session ended or expired meanwhile."""
    result = await tx.conn.execute(S.update().where(
        S.c.id == session_id, S.c.terminated_at.is_(None), sa.or_(S.c.expires_at.is_(None), S.c.expires_at > tx.now),
    ).values(
        user_id=change.user_id, token_hash=change.token_hash, factors=change.factors, metadata=change.metadata,
        expires_at=change.expires_at, password_checked_at=change.password_checked_at, changed_at=tx.now,
    ))
    if not result.rowcount:
        return None
    sequence = await _record(tx, session_id, change, owner)
    await tx.conn.execute(S.update().where(S.c.id == session_id).values(sequence=sequence))
    return changed(tx, sequence, owner)
