"""Deleting what can no longer be used: expired codes, tokens, auth requests, device
authorizations, remembered assertion `jti`s, and delivered or failed outbox rows.

Every row goes only after a grace period past its own expiry, so nothing a request could still
redeem, replay-check or deliver is removed: an expired code or token is refused whether or not its
row is still there (its lookup checks the expiry), and an assertion whose `jti` is forgotten has
expired too, so it cannot be replayed (RFC 7523 §3 only asks to remember a `jti` until then).

Idempotent and safe with several processes: each is one `DELETE … WHERE expiry < cutoff` per
table in one transaction. Run by `bergfried purge` and periodically by the server (`purge_interval`).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from bergfried import logs
from bergfried.store import tables as t
from bergfried.store.tx import Store, utcnow

# How long past its expiry a row is kept: long enough that a replay of an expired code or
# refresh token is still recognised as a replay for a day (and its family revoked).
GRACE = timedelta(days=1)
# Delivered and failed outbox rows are kept a week for inspection.
OUTBOX_KEEP = timedelta(days=7)

log = logs.get(__name__)


@dataclass(frozen=True, slots=True)
class Purged:
    """Rows deleted, by table."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _deletes(now: datetime) -> dict[str, sa.Delete]:
    cutoff = now - GRACE
    rt, ob = t.refresh_tokens, t.outbox
    outbox_cutoff = now - OUTBOX_KEEP
    return {
        "authorization_codes": t.authorization_codes.delete().where(t.authorization_codes.c.expires_at < cutoff),
        "access_tokens": t.access_tokens.delete().where(t.access_tokens.c.expires_at < cutoff),
        "refresh_tokens": rt.delete().where(sa.or_(rt.c.family_expires_at < cutoff, rt.c.idle_expires_at < cutoff)),
        "auth_requests": t.auth_requests.delete().where(t.auth_requests.c.expires_at < cutoff),
        "device_authorizations": t.device_authorizations.delete().where(
            t.device_authorizations.c.expires_at < cutoff),
        "used_assertions": t.used_assertions.delete().where(t.used_assertions.c.expires_at < now),
        "outbox": ob.delete().where(sa.or_(ob.c.delivered_at < outbox_cutoff, ob.c.failed_at < outbox_cutoff)),
    }


async def purge(store: Store, now: datetime) -> Purged:
    counts: dict[str, int] = {}
    async with store.write() as tx:
        for table, statement in _deletes(now).items():
            result = await tx.conn.execute(statement)
            counts[table] = max(result.rowcount or 0, 0)
    return Purged(counts)


async def run(store: Store, *, interval: float) -> None:
    """Purge every `interval` seconds (the first time after a random part of it, so processes
    started together do not purge together); a failure is logged and tried again next time."""
    await asyncio.sleep(random.uniform(0, interval))  # noqa: S311 (spreading, not secrecy)
    while True:
        try:
            purged = await purge(store, utcnow())
            if purged.total:
                log.info("purged", **{table: count for table, count in purged.counts.items() if count})
        except Exception as exc:  # the loop must outlive a bad moment of the database
            log.warning("purge_error", error=str(exc))
        await asyncio.sleep(interval)
