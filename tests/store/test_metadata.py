"""User metadata on both engines: key → bytes."""

from __future__ import annotations

import pytest

from bergfried.domain.metadata import Metadata
from bergfried.errors import InvalidArgument, NotFound, PreconditionFailed
from bergfried.store import metadata
from bergfried.store.tx import Store
from tests.factories import events_after, latest_sequence, make_org, make_user

NOT_UTF8 = bytes([0x00, 0xFF, 0xFE, 0x80, 0xC3, 0x28, 0x0A, 0x00])


@pytest.mark.rule("spec/management-api.md §5.3")
async def test_set_many_then_get_all_and_get_one_round_trip(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org, password=None)
    async with store.write() as tx:
        details = await metadata.set_many(tx, user, [Metadata("contract", b"1234"), Metadata("a-first", b"x")])
    assert details.resource_owner == org.id
    async with store.read() as conn:
        assert await metadata.get_all(conn, user.id) == {"a-first": b"x", "contract": b"1234"}
        assert list(await metadata.get_all(conn, user.id)) == ["a-first", "contract"]  # key order
        assert await metadata.get_one(conn, user.id, "contract") == b"1234"
        assert await metadata.get_one(conn, user.id, "missing") is None
    async with store.write() as tx:
        await metadata.set_many(tx, user, [Metadata("contract", b"5678")])
    second = await make_user(store, org, password=None)
    async with store.write() as tx:
        await metadata.set_many(tx, second, [Metadata("contract", b"other")])
    async with store.read() as conn:  # one user's metadata is not another's
        assert await metadata.get_one(conn, user.id, "contract") == b"5678"
        assert await metadata.get_all(conn, second.id) == {"contract": b"other"}


@pytest.mark.rule("spec/management-api.md §5.3")
async def test_bytes_round_trip_including_non_utf8(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org, password=None)
    big = bytes(range(256)) * 20
    async with store.write() as tx:
        await metadata.set_many(tx, user, [Metadata("raw", NOT_UTF8), Metadata("big", big)])
    async with store.read() as conn:
        assert await metadata.get_one(conn, user.id, "raw") == NOT_UTF8
        assert await metadata.get_all(conn, user.id) == {"big": big, "raw": NOT_UTF8}


@pytest.mark.rule("spec/management-api.md §5.3")
async def test_setting_the_same_value_again_writes_no_new_event(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org, password=None)
    async with store.write() as tx:
        first = await metadata.set_many(tx, user, [Metadata("contract", b"1234")])
    before = await latest_sequence(store)
    async with store.write() as tx:
        again = await metadata.set_many(tx, user, [Metadata("contract", b"1234")])
    assert await events_after(store, before) == []
    assert again.sequence == first.sequence
    async with store.write() as tx:  # only the changed key of a bulk set writes an event
        await metadata.set_many(tx, user, [Metadata("contract", b"1234"), Metadata("team", b"blue")])
    written = await events_after(store, before)
    assert [(e.event_type, e.payload["key"]) for e in written] == [("user.metadata.set", "team")]


@pytest.mark.rule("spec/management-api.md §5.3")
async def test_set_many_with_an_empty_list_is_a_failed_precondition(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org, password=None)
    with pytest.raises(PreconditionFailed) as caught:
        async with store.write() as tx:
            await metadata.set_many(tx, user, [])
    assert caught.value.key == "Errors.Metadata.NoData"
    with pytest.raises(InvalidArgument):
        async with store.write() as tx:
            await metadata.set_many(tx, user, [Metadata("ok", b"1"), Metadata("empty", b"")])
    async with store.read() as conn:
        assert await metadata.get_all(conn, user.id) == {}  # the valid entry went nowhere either


@pytest.mark.rule("spec/management-api.md §5.3")
async def test_remove_one_and_remove_many(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org, password=None)
    async with store.write() as tx:
        await metadata.set_many(tx, user, [Metadata(k, k.encode()) for k in ("a", "b", "c", "d")])
    async with store.write() as tx:
        await metadata.remove_one(tx, user, "a")
    async with store.write() as tx:
        await metadata.remove_many(tx, user, ["b", "c"])
    async with store.read() as conn:
        assert await metadata.get_all(conn, user.id) == {"d": b"d"}
    with pytest.raises(NotFound) as one_missing:
        async with store.write() as tx:
            await metadata.remove_one(tx, user, "a")
    assert one_missing.value.key == "Errors.Metadata.NotFound"
    with pytest.raises(NotFound) as bulk_missing:
        async with store.write() as tx:
            await metadata.remove_many(tx, user, ["d", "nope"])
    assert bulk_missing.value.key == "Errors.Metadata.KeyNotExisting"
    async with store.read() as conn:
        assert await metadata.get_all(conn, user.id) == {"d": b"d"}  # bulk remove is all or nothing
