"""Concurrent writers on both engines: separate transactions racing on one row."""

from __future__ import annotations

import asyncio

import pytest

from bergfried.domain.users import HumanUser, UserState
from bergfried.store import users
from bergfried.store.tx import Store
from tests.factories import events_after, latest_sequence, make_org, make_user

CHECKS = 8
MAX_ATTEMPTS = 5


@pytest.mark.rule("spec/login.md §5")
async def test_concurrent_password_failures_are_all_counted_and_lock_exactly_once_at_max(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org, password=None)
    below = await make_user(store, org, password=None)
    before = await latest_sequence(store)

    async def fail_once(target: HumanUser, max_attempts: int) -> int:
        async with store.write() as tx:
            return await users.record_password_check(tx, target, succeeded=False, max_attempts=max_attempts)

    results = await asyncio.gather(*(fail_once(user, MAX_ATTEMPTS) for _ in range(CHECKS)),
                                   *(fail_once(below, CHECKS + 1) for _ in range(CHECKS)))
    assert sorted(results[CHECKS:]) == list(range(1, CHECKS + 1))
    results = results[:CHECKS]
    assert sorted(results) == list(range(1, CHECKS + 1))  # every check saw its own count
    async with store.read() as conn:
        loaded = await users.get(conn, user.id)
    assert isinstance(loaded, HumanUser)
    assert loaded.failed_password_attempts == CHECKS
    assert loaded.state == UserState.LOCKED
    written = [e.event_type for e in await events_after(store, before, aggregate_id=user.id)]
    assert written.count("user.human.password.check.failed") == CHECKS
    assert written.count("user.locked") == 1
    # the lock follows the failure that reached the maximum, in log order
    assert written.index("user.locked") == MAX_ATTEMPTS
    async with store.read() as conn:  # the other user, below its maximum, is counted but not locked
        other = await users.get(conn, below.id)
    assert isinstance(other, HumanUser)
    assert (other.failed_password_attempts, other.state) == (CHECKS, UserState.ACTIVE)
