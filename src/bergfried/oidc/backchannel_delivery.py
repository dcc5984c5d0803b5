"""Delivering queued back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.5;
spec/backchannel-logout.md §3).

- `deliver_batch` claims due rows, POSTs each `logout_token` as a form field, and records the
  outcome; `run` calls it in a loop (started by the app's lifespan unless `outbox_worker` is off).
- Claiming is safe with several processes: one write transaction selects due rows — `FOR UPDATE
  SKIP LOCKED` on PostgreSQL; on SQLite the write transaction is `BEGIN IMMEDIATE`, which lets
  one writer in at a time — and leases them (`locked_until`). A process that dies holding a lease
  loses it when the lease runs out and the row is claimed again: at least once across crashes.
  The outcome is written only by the holder of the lease, so each row is delivered once in
  normal operation.
- A 2xx ends it. Any other status (including 4xx — departs from ZITADEL, which gives up on 400,
  because the issue asks every 4xx to be retried), a network error or the 5 s time-out is
  retried after a backoff that doubles from 1 s up to 5 min, until `max_attempts` claims; then
  the row is marked failed. Redirects are not followed (a 3xx is a failure).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa

from bergfried import logs
from bergfried.oidc.backchannel import KIND
from bergfried.services import Services
from bergfried.store import tables as t
from bergfried.store.tx import Store

OB = t.outbox
LEASE = timedelta(seconds=30)
TIMEOUT = 5.0
FIRST_BACKOFF = timedelta(seconds=1)
MAX_BACKOFF = timedelta(minutes=5)

log = logs.get(__name__)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: str
    destination: str
    logout_token: str
    attempts: int  # including this one
    max_attempts: int
    lease: datetime


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1 s, 2 s, 4 s, … at most 5 min."""
    wait: timedelta = FIRST_BACKOFF * (2 ** max(attempts - 1, 0))
    return min(wait, MAX_BACKOFF)


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(OB.c.kind == KIND, OB.c.delivered_at.is_(None), OB.c.failed_at.is_(None), OB.c.available_at <= now,
                   sa.or_(OB.c.locked_until.is_(None), OB.c.locked_until <= now))


async def claim(store: Store, limit: int) -> list[Claimed]:
    """Lease up to `limit` due rows to this caller."""
    async with store.read() as conn:  # cheap check first: an idle poll opens no write transaction
        if (await conn.execute(sa.select(OB.c.id).where(_due(store.clock())).limit(1))).first() is None:
            return []
    async with store.write() as tx:
        query = (sa.select(OB.c.id, OB.c.destination, OB.c.payload, OB.c.attempts, OB.c.max_attempts)
                 .where(_due(tx.now)).order_by(OB.c.available_at, OB.c.id).limit(limit))
        if store.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = (await tx.conn.execute(query)).all()
        lease = tx.now + LEASE
        claimed = []
        for row in rows:
            await tx.conn.execute(OB.update().where(OB.c.id == row.id)
                                  .values(locked_until=lease, attempts=OB.c.attempts + 1))
            claimed.append(Claimed(str(row.id), row.destination, str(row.payload["logout_token"]),
                                   row.attempts + 1, row.max_attempts, lease))
    return claimed


async def _post(client: httpx.AsyncClient, item: Claimed) -> str | None:
    """None when the receiver took it; otherwise why not."""
    try:
        response = await client.post(item.destination, data={"logout_token": item.logout_token},
                                     timeout=TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:1000]
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


async def _record(store: Store, item: Claimed, error: str | None) -> None:
    async with store.write() as tx:
        mine = sa.and_(OB.c.id == item.id, OB.c.locked_until == item.lease)
        if error is None:
            values: dict[str, object] = {"delivered_at": tx.now, "locked_until": None, "last_error": None}
        elif item.attempts >= item.max_attempts:
            values = {"failed_at": tx.now, "locked_until": None, "last_error": error}
        else:
            values = {"available_at": tx.now + backoff(item.attempts), "locked_until": None, "last_error": error}
        await tx.conn.execute(OB.update().where(mine).values(**values))
    if error is not None:
        log.warning("backchannel_logout_failed", outbox_id=item.id, destination=item.destination,
                    attempts=item.attempts, error=error)


async def deliver_batch(services: Services, client: httpx.AsyncClient | None = None, *, limit: int = 20) -> int:
    """Claim due rows, POST them in parallel, record each outcome; returns how many were claimed."""
    claimed = await claim(services.store, limit)
    if not claimed:
        return 0
    own = client is None
    http = client or httpx.AsyncClient()
    try:
        errors = await asyncio.gather(*(_post(http, item) for item in claimed))
    finally:
        if own:
            await http.aclose()
    for item, error in zip(claimed, errors, strict=True):
        await _record(services.store, item, error)
    return len(claimed)


async def run(services: Services, *, interval: float) -> None:
    """Deliver forever; a batch that fails (the database is away) is logged and tried again."""
    async with httpx.AsyncClient() as client:
        while True:
            try:
                busy = await deliver_batch(services, client)
            except Exception as exc:  # the worker must outlive a bad moment of the database
                log.warning("backchannel_worker_error", error=str(exc))
                busy = 0
            if not busy:
                await asyncio.sleep(interval)
