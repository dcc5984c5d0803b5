"""User sessions on both engines: per browser, password checks, listing for the account
selection, and ending them once (for logout and user locks)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bergfried.domain.users import UserState
from bergfried.store import sessions
from bergfried.store import users as user_store
from bergfried.store.tx import Store
from tests.factories import events_after, latest_sequence, make_org, make_user


@pytest.mark.rule("spec/login.md §1 browser identity: the sessions of a user agent")
async def test_sessions_are_listed_per_browser_with_the_users_display_data(store: Store) -> None:
    org = await make_org(store, "ACME")
    alice = await make_user(store, org, "alice", first_name="Alice", last_name="Liddell")
    bob = await make_user(store, org, "bob")
    before = await latest_sequence(store)
    async with store.write() as tx:
        first = await sessions.create(tx, alice.id, "browser-1", org_id=org.id, password_checked_at=tx.now)
        await sessions.create(tx, bob.id, "browser-1", org_id=org.id)
        await sessions.create(tx, bob.id, "browser-2", org_id=org.id)
        now = tx.now
    async with store.read() as conn:
        listed = await sessions.list_active(conn, "browser-1", now=now)
        loaded = await sessions.get(conn, first.id)
    assert {entry.session.user_id for entry in listed} == {alice.id, bob.id}
    entry = next(e for e in listed if e.session.user_id == alice.id)
    assert entry.display_name == "Alice Liddell"
    assert entry.login_name(must_be_domain=True) == f"alice@{org.primary_domain}"
    assert entry.login_name(must_be_domain=False) == "alice"
    assert entry.user_state == UserState.ACTIVE
    assert entry.is_human is True
    assert loaded == first
    assert loaded.password_checked_at == now
    added = await events_after(store, before, aggregate_type="session")
    assert [e.event_type for e in added] == ["session.added", "session.password.checked", "session.added",
                                             "session.added"]
    assert added[0].resource_owner == org.id


async def test_a_password_check_moves_a_live_session_forward_but_not_an_ended_one(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org)
    async with store.write() as tx:
        session = await sessions.create(tx, user.id, "b", org_id=org.id)
    async with store.write() as tx:
        assert await sessions.mark_password_checked(tx, session.id, checked_at=tx.now, org_id=org.id)
        checked = tx.now
    async with store.read() as conn:
        found = await sessions.find_active(conn, "b", user.id, now=checked)
    assert found is not None
    assert found.password_checked_at == checked
    async with store.write() as tx:
        assert await sessions.terminate(tx, session.id)
    async with store.write() as tx:
        assert not await sessions.mark_password_checked(tx, session.id, checked_at=tx.now, org_id=org.id)
    async with store.read() as conn:
        assert await sessions.find_active(conn, "b", user.id, now=checked + timedelta(seconds=1)) is None
        assert await sessions.list_active(conn, "b", now=checked + timedelta(seconds=1)) == []


@pytest.mark.rule("spec/login.md §1: ending a session is one conditional UPDATE, one event")
async def test_terminate_ends_a_session_once(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org)
    async with store.write() as tx:
        session = await sessions.create(tx, user.id, "b", org_id=org.id)
    before = await latest_sequence(store)
    async with store.write() as tx:
        assert await sessions.terminate(tx, session.id) is True
    async with store.write() as tx:
        assert await sessions.terminate(tx, session.id) is False
        assert await sessions.terminate(tx, "404") is False
    async with store.read() as conn:
        ended = await sessions.get(conn, session.id)
    assert ended is not None
    assert ended.active is False
    terminated = await events_after(store, before, aggregate_type="session")
    assert [(e.aggregate_id, e.event_type, e.resource_owner) for e in terminated] == [
        (session.id, "session.terminated", org.id)]


async def test_terminate_for_user_ends_all_of_that_users_live_sessions_only(store: Store) -> None:
    org = await make_org(store)
    alice, bob = await make_user(store, org), await make_user(store, org)
    async with store.write() as tx:
        a1 = await sessions.create(tx, alice.id, "b1", org_id=org.id)
        a2 = await sessions.create(tx, alice.id, "b2", org_id=org.id)
        already = await sessions.create(tx, alice.id, "b3", org_id=org.id)
        b1 = await sessions.create(tx, bob.id, "b1", org_id=org.id)
    async with store.write() as tx:
        await sessions.terminate(tx, already.id)
    async with store.write() as tx:
        ended = await sessions.terminate_for_user(tx, alice.id)
        assert await sessions.terminate_for_user(tx, "404") == []
        now = tx.now
    assert ended == sorted([a1.id, a2.id])
    async with store.read() as conn:
        left = await sessions.list_active(conn, "b1", now=now)
    assert [entry.session.id for entry in left] == [b1.id]


async def test_removed_users_drop_out_of_the_list(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org)
    async with store.write() as tx:
        await sessions.create(tx, user.id, "b", org_id=org.id)
        await user_store.remove(tx, user)
        now = tx.now
    async with store.read() as conn:
        assert await sessions.list_active(conn, "b", now=now) == []
