"""`Tx.defer` (store/deferred.py): rows a write transaction adds without reading them back go as
one statement when it commits, and the transaction still commits fully or not at all."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
import pytest
import sqlalchemy as sa

from bergfried.store import tables as t
from bergfried.store import tokens as token_store
from bergfried.store.tx import Store
from tests.factories import make_org, make_user


def _record(token_id: str, user_id: str, now: datetime) -> token_store.AccessTokenRecord:
    grant = token_store.Grant(client_id="c", user_id=user_id, scopes=("openid", "profile"), audience=("c", "p"),
                              amr=("pwd",), actor={"sub": "a"})
    return token_store.AccessTokenRecord(id=token_id, format="opaque", grant=grant, created_at=now,
                                         expires_at=now + timedelta(hours=1), family_id="f1")


async def _count(store: Store, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    async with store.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table).where(*where))).scalar_one())


@pytest.mark.rule("guide: a request commits fully or not at all")
async def test_deferred_rows_are_written_at_commit_as_given(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org, password=None)
    async with store.write() as tx:
        await token_store.add_access_token(tx, _record("at-1", user.id, tx.now), "hash-1")
        tx.defer_event("user", user.id, "user.token.added", {"n": 1}, resource_owner=org.id)
        await token_store.add_access_token(tx, _record("at-2", user.id, tx.now), None)
        if store.dialect == "postgresql":
            # nothing but deferred rows so far: asyncpg has not begun a transaction, and the rows
            # will go as one statement without BEGIN and COMMIT
            raw: asyncpg.Connection = (await tx.conn.get_raw_connection()).driver_connection
            assert not raw.is_in_transaction()
        assert await _count(store, t.access_tokens, t.access_tokens.c.user_id == user.id) == 0
    async with store.read() as conn:
        first = await token_store.active_access_token(conn, tx.now, token_hash="hash-1")
        second = await token_store.active_access_token(conn, tx.now, token_id="at-2")
        event = (await conn.execute(sa.select(t.events).where(t.events.c.event_type == "user.token.added"))).one()
    assert first is not None
    assert second is not None
    assert first.grant == second.grant == _record("x", user.id, tx.now).grant  # JSON columns round-trip
    assert (first.id, first.format, first.family_id) == ("at-1", "opaque", "f1")
    assert first.expires_at == tx.now + timedelta(hours=1)
    assert event.payload == {"n": 1}
    assert event.resource_owner == org.id


@pytest.mark.rule("guide: a request commits fully or not at all")
@pytest.mark.parametrize("with_other_write", [False, True], ids=["deferred-only", "after-a-write"])
async def test_a_failing_deferred_row_writes_nothing(store: Store, with_other_write: bool) -> None:
    org = await make_org(store)
    user = await make_user(store, org, password=None)
    async with store.write() as tx:
        await token_store.add_access_token(tx, _record("taken", user.id, tx.now), "hash-taken")

    async def write_a_taken_id() -> None:
        async with store.write() as tx:
            if with_other_write:
                await tx.event("user", user.id, "user.changed.before", {}, resource_owner=org.id)
            tx.defer_event("user", user.id, "user.token.added", {}, resource_owner=org.id)
            await token_store.add_access_token(tx, _record("taken", user.id, tx.now), "hash-other")

    with pytest.raises(sa.exc.DBAPIError):  # the second row's id is taken: the unique index refuses
        await write_a_taken_id()
    assert await _count(store, t.events, t.events.c.event_type.in_(["user.token.added", "user.changed.before"])) == 0
    assert await _count(store, t.access_tokens, t.access_tokens.c.token_hash == "hash-other") == 0


async def test_a_failing_body_writes_no_deferred_row(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org, password=None)

    async def fail_after_the_token() -> None:
        async with store.write() as tx:
            await token_store.add_access_token(tx, _record("never", user.id, tx.now), "hash-never")
            raise RuntimeError("the request failed after the token was made")

    with pytest.raises(RuntimeError):
        await fail_after_the_token()
    assert await _count(store, t.access_tokens, t.access_tokens.c.id == "never") == 0
