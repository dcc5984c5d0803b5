"""`store/purge.py`: what can no longer be used is deleted after its grace period, and nothing
else — on both engines."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bergfried.store import tables as t
from bergfried.store import tokens
from bergfried.store.purge import GRACE, OUTBOX_KEEP, purge, run
from bergfried.store.tx import Store
from tests.factories import count_rows, make_org, make_user


def _outbox(row_id: str, now: datetime, **outcome: Any) -> dict[str, Any]:
    return {"id": row_id, "kind": "backchannel_logout", "destination": "https://rp.example/logout",
            "payload": {}, "attempts": 1, "max_attempts": 5, "available_at": now, "created_at": now,
            "delivered_at": None, "failed_at": None, **outcome}


async def test_purge_deletes_only_rows_past_their_expiry_and_grace(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org)
    grant = tokens.Grant(client_id="app", user_id=user.id, scopes=("openid",), audience=("app",))
    async with store.write() as tx:
        now = tx.now
        old, fresh = now - GRACE - timedelta(minutes=1), now - GRACE + timedelta(minutes=1)
        for name, expires in (("old", old), ("fresh", fresh)):
            await tokens.add_code(tx, f"code-{name}", tokens.CodeRecord(
                grant=grant, redirect_uri="https://rp.example/cb", created_at=expires, expires_at=expires))
            await tokens.add_access_token(tx, tokens.AccessTokenRecord(
                id=tx.new_id(), format="opaque", grant=grant, created_at=expires, expires_at=expires), f"at-{name}")
            await tokens.add_refresh_token(tx, tokens.RefreshTokenRecord(
                id=tx.new_id(), family_id=tx.new_id(), grant=grant, created_at=expires,
                idle_expires_at=expires, family_expires_at=now + timedelta(days=30)), f"rt-{name}")
        # a jti is remembered exactly until its assertion expires (RFC 7523 §3)
        await tx.conn.execute(t.used_assertions.insert(), [
            {"issuer": "m", "jti": "gone", "expires_at": now - timedelta(seconds=1)},
            {"issuer": "m", "jti": "kept", "expires_at": now + timedelta(minutes=5)},
        ])
        week = now - OUTBOX_KEEP
        await tx.conn.execute(t.outbox.insert(), [
            _outbox("1", now, delivered_at=week - timedelta(minutes=1)),
            _outbox("2", now, failed_at=week - timedelta(minutes=1)),
            _outbox("3", now, delivered_at=week + timedelta(minutes=1)),
            _outbox("4", now),  # still pending: never purged, however old
        ])

    purged = await purge(store, now)

    assert purged.counts == {"authorization_codes": 1, "access_tokens": 1, "refresh_tokens": 1, "auth_requests": 0,
                             "device_authorizations": 0, "used_assertions": 1, "outbox": 2}
    async with store.read() as conn:
        assert await tokens.get_code(conn, "code-fresh") is not None
        assert await tokens.get_code(conn, "code-old") is None
        assert await tokens.get_refresh_token(conn, "rt-fresh") is not None
        assert await tokens.get_refresh_token(conn, "rt-old") is None
        jtis = (await conn.execute(sa.select(t.used_assertions.c.jti))).scalars().all()
        outbox = (await conn.execute(sa.select(t.outbox.c.id).order_by(t.outbox.c.id))).scalars().all()
    assert jtis == ["kept"]
    assert outbox == ["3", "4"]
    assert await count_rows(store, t.access_tokens) == 1
    # idempotent: a second run (another process, the next tick) finds nothing
    assert (await purge(store, now)).total == 0


async def test_the_server_loop_purges_on_its_own(store: Store) -> None:
    """`purge_interval`: the loop the app's lifespan starts (store/purge.py `run`)."""
    async with store.write() as tx:
        await tx.conn.execute(t.used_assertions.insert(), [
            {"issuer": "m", "jti": "old", "expires_at": tx.now - timedelta(seconds=1)}])
    loop = asyncio.create_task(run(store, interval=0.05))
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            if await count_rows(store, t.used_assertions) == 0:
                break
        assert await count_rows(store, t.used_assertions) == 0
        assert not loop.done()
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
