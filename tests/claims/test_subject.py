"""The subject behind userinfo and introspection loads in a bounded number of queries
(ARCHITECTURE.md: hot paths do at most 2 indexed queries)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from bergfried.claims import subject
from bergfried.domain.metadata import Metadata
from bergfried.store import metadata
from bergfried.store.tx import Store
from tests.factories import make_org, make_user


@pytest.mark.rule("ARCHITECTURE.md property 4: at most 2 indexed queries on a hot path")
async def test_subject_loads_in_two_queries(store: Store) -> None:
    org = await make_org(store, "ACME")
    user = await make_user(store, org, "road.runner", password=None)
    async with store.write() as tx:
        await metadata.set_many(tx, user, [Metadata("contract", b"1234"), Metadata("tier", b"gold")])
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with store.read() as conn:
            loaded = await subject.load(conn, user.id, must_be_domain=True)
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", count)
    assert loaded is not None
    assert loaded.org.name == "ACME"
    assert loaded.preferred_username == f"road.runner@{org.primary_domain}"
    assert loaded.metadata == {"contract": b"1234", "tier": b"gold"}
    assert len(statements) == 2, statements


async def test_unknown_or_removed_user_has_no_subject(store: Store) -> None:
    from bergfried.store import users

    org = await make_org(store)
    user = await make_user(store, org, password=None)
    async with store.write() as tx:
        await users.remove(tx, user)
    async with store.read() as conn:
        assert await subject.load(conn, user.id, must_be_domain=True) is None
        assert await subject.load(conn, "404", must_be_domain=True) is None
