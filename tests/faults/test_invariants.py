"""The invariant queries of tests/faults/invariants.py find what they look for: a whole database
passes, and rows written behind the store's back (no event, half a token family) are named."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bergfried.services import Services
from bergfried.store import tables as t
from tests.faults.invariants import broken
from tests.faults.world import build, tokens


async def test_the_invariants_name_half_written_rows(services: Services) -> None:
    await services.keyring.ensure_key("RS256")
    loaded = await build(services)
    await tokens(loaded)
    assert {rule: ids for rule, ids in (await broken(services.store)).items() if ids} == {}
    async with services.store.write() as tx:
        row = (await tx.conn.execute(sa.select(t.refresh_tokens))).first()
        assert row is not None
        half = {**row._mapping, "id": tx.new_id(), "token_hash": "x" * 64, "created_at": tx.now + timedelta(1)}
        await tx.conn.execute(t.refresh_tokens.insert().values(**half))
        await tx.conn.execute(t.refresh_tokens.update().where(t.refresh_tokens.c.id == row.id)
                              .values(consumed_at=tx.now + timedelta(2)))
        app = (await tx.conn.execute(sa.select(t.applications))).first()
        assert app is not None
        await tx.conn.execute(t.applications.insert().values(
            **{**app._mapping, "id": tx.new_id(), "client_id": "no-event", "name": "no-event"}))
    found = {rule: len(ids) for rule, ids in (await broken(services.store)).items() if ids}
    assert found == {"refresh token without the access token issued with it": 1,
                     "refresh token consumed without a successor": 1,
                     "application without its creation event": 1}
