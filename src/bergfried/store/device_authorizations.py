"""Device authorizations at rest (RFC 8628; spec/other-grants.md §5).

The device code is kept only as a keyed hash; the user code is stored as shown
(`GQWC-FWFK`). Every state change is a conditional UPDATE whose row count decides:
approve/deny only a pending, unexpired authorization; record a poll only if nobody else
polled since it was read (compare-and-set on `last_polled_at`); consume an approved one once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.store import tables as t
from bergfried.store.tx import Tx

D = t.device_authorizations

PENDING, APPROVED, DENIED = "pending", "approved", "denied"


@dataclass(frozen=True, slots=True)
class DeviceAuthorization:
    device_code_hash: str
    user_code: str
    client_id: str
    scopes: tuple[str, ...]
    state: str
    poll_interval: int
    created_at: datetime
    expires_at: datetime
    user_id: str | None = None
    session_id: str | None = None
    auth_time: datetime | None = None
    amr: tuple[str, ...] = ()
    last_polled_at: datetime | None = None
    consumed_at: datetime | None = None


def _record(row: Any) -> DeviceAuthorization:
    return DeviceAuthorization(
        device_code_hash=row.device_code_hash, user_code=row.user_code, client_id=row.client_id,
        scopes=tuple(row.scopes), state=row.state, poll_interval=row.poll_interval, created_at=row.created_at,
        expires_at=row.expires_at, user_id=row.user_id, session_id=row.session_id, auth_time=row.auth_time,
        amr=tuple(row.amr or ()), last_polled_at=row.last_polled_at, consumed_at=row.consumed_at,
    )


async def add(tx: Tx, record: DeviceAuthorization) -> bool:
    """Insert; False when the user code is already taken (the caller draws another)."""
    try:
        async with tx.conn.begin_nested():
            await tx.conn.execute(D.insert().values(
                device_code_hash=record.device_code_hash, user_code=record.user_code, client_id=record.client_id,
                scopes=list(record.scopes), state=record.state, amr=[], poll_interval=record.poll_interval,
                created_at=record.created_at, expires_at=record.expires_at,
            ))
    except IntegrityError:
        return False
    return True


async def by_device_code(conn: AsyncConnection, device_code_hash: str) -> DeviceAuthorization | None:
    row = (await conn.execute(sa.select(D).where(D.c.device_code_hash == device_code_hash))).first()
    return _record(row) if row else None


async def by_user_code(conn: AsyncConnection, user_code: str) -> DeviceAuthorization | None:
    row = (await conn.execute(sa.select(D).where(D.c.user_code == user_code))).first()
    return _record(row) if row else None


async def decide(tx: Tx, user_code: str, *, approve: bool, user_id: str, session_id: str | None = None,
                 auth_time: datetime | None = None, amr: tuple[str, ...] = ()) -> bool:
    """Approve or deny a pending, unexpired authorization; False if it is no longer pending."""
    result = await tx.conn.execute(D.update().where(
        D.c.user_code == user_code, D.c.state == PENDING, D.c.expires_at > tx.now,
    ).values(state=APPROVED if approve else DENIED, user_id=user_id, session_id=session_id,
             auth_time=auth_time, amr=list(amr)))
    return bool(result.rowcount)


async def record_poll(tx: Tx, record: DeviceAuthorization) -> bool:
    """Compare-and-set: note this poll only if nobody polled since `record` was read."""
    previous = D.c.last_polled_at.is_(None) if record.last_polled_at is None \
        else D.c.last_polled_at == record.last_polled_at
    result = await tx.conn.execute(D.update().where(D.c.device_code_hash == record.device_code_hash, previous)
                                   .values(last_polled_at=tx.now))
    return bool(result.rowcount)


async def slow_down(tx: Tx, device_code_hash: str, seconds: int) -> None:
    """RFC 8628 §3.5: after `slow_down` the interval grows by 5 seconds for this and later polls,
    counted from this poll."""
    await tx.conn.execute(D.update().where(D.c.device_code_hash == device_code_hash)
                          .values(poll_interval=D.c.poll_interval + seconds, last_polled_at=tx.now))


async def consume(tx: Tx, device_code_hash: str) -> bool:
    """The device code gives tokens once: the conditional UPDATE's row count decides the one winner."""
    result = await tx.conn.execute(D.update().where(
        D.c.device_code_hash == device_code_hash, D.c.state == APPROVED, D.c.consumed_at.is_(None),
        D.c.expires_at > tx.now,
    ).values(consumed_at=tx.now))
    return bool(result.rowcount)
