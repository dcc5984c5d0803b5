"""Personal access tokens and machine keys on both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bergfried.errors import NotFound, PreconditionFailed
from bergfried.store import credentials, users
from bergfried.store.credentials import NO_EXPIRY
from bergfried.store.tx import Store, utcnow
from tests.factories import make_machine, make_org, make_user

PEM = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"


@pytest.mark.rule("spec/management-api.md §5.2, spec/other-grants.md §4")
async def test_pat_is_found_by_its_hash_defaults_to_no_expiry_and_the_fixed_scope(store: Store) -> None:
    org = await make_org(store)
    machine = await make_machine(store, org)
    async with store.write() as tx:
        pat_id, details = await credentials.add_pat(tx, machine, "hash-of-token", scopes=("openid", "profile"))
    assert details.resource_owner == org.id
    async with store.read() as conn:
        found = await credentials.find_pat(conn, "hash-of-token", utcnow())
        unknown = await credentials.find_pat(conn, "hash-of-other-token", utcnow())
        listed = await credentials.list_pats(conn, machine.id)
    assert found is not None
    assert (found.id, found.user_id, found.org_id, found.scopes) == (pat_id, machine.id, org.id, ("openid", "profile"))
    assert found.expires_at == NO_EXPIRY
    assert unknown is None
    assert [p.id for p in listed] == [pat_id]
    async with store.write() as tx:  # without explicit scopes: ZITADEL's fixed PAT scope
        await credentials.add_pat(tx, machine, "default-scopes")
    async with store.read() as conn:
        default = await credentials.find_pat(conn, "default-scopes", utcnow())
    assert default is not None
    assert default.scopes == ("openid", "profile", "urn:zitadel:iam:user:metadata",
                              "urn:zitadel:iam:user:resourceowner")


@pytest.mark.rule("spec/management-api.md §5.2")
async def test_an_expired_pat_or_one_of_a_locked_or_deactivated_user_is_not_found(store: Store) -> None:
    org = await make_org(store)
    machine = await make_machine(store, org)
    now = utcnow()
    async with store.write() as tx:
        await credentials.add_pat(tx, machine, "short-lived", expires_at=now + timedelta(minutes=5))
    async with store.read() as conn:
        assert await credentials.find_pat(conn, "short-lived", now) is not None
        assert await credentials.find_pat(conn, "short-lived", now + timedelta(minutes=5)) is None
        assert await credentials.find_pat(conn, "short-lived", now + timedelta(days=1)) is None
    async with store.write() as tx:
        await credentials.add_pat(tx, machine, "pat-hash")
        await users.change_state(tx, machine, "lock")
    async with store.read() as conn:
        assert await credentials.find_pat(conn, "pat-hash", utcnow()) is None
        locked = await users.get(conn, machine.id)
    async with store.write() as tx:
        await users.change_state(tx, locked, "unlock")
    async with store.read() as conn:
        assert await credentials.find_pat(conn, "pat-hash", utcnow()) is not None
        active = await users.get(conn, machine.id)
    async with store.write() as tx:
        await users.change_state(tx, active, "deactivate")
    async with store.read() as conn:
        assert await credentials.find_pat(conn, "pat-hash", utcnow()) is None


@pytest.mark.rule("spec/other-grants.md §4")
async def test_remove_pat_revokes_it_and_a_second_remove_is_not_found(store: Store) -> None:
    org = await make_org(store)
    machine = await make_machine(store, org)
    other = await make_machine(store, org)
    async with store.write() as tx:
        pat_id, _ = await credentials.add_pat(tx, machine, "to-remove")
    with pytest.raises(NotFound):  # not through another user
        async with store.write() as tx:
            await credentials.remove_pat(tx, other, pat_id)
    async with store.write() as tx:
        await credentials.remove_pat(tx, machine, pat_id)
    async with store.read() as conn:
        assert await credentials.find_pat(conn, "to-remove", utcnow()) is None
        assert await credentials.list_pats(conn, machine.id) == []
    with pytest.raises(NotFound) as caught:
        async with store.write() as tx:
            await credentials.remove_pat(tx, machine, pat_id)
    assert caught.value.key == "Errors.User.PAT.NotFound"


@pytest.mark.rule("spec/management-api.md §5.2")
async def test_pat_and_machine_key_on_a_human_user_are_wrong_type(store: Store) -> None:
    org = await make_org(store)
    human = await make_user(store, org, password=None)
    with pytest.raises(PreconditionFailed) as caught:
        async with store.write() as tx:
            await credentials.add_pat(tx, human, "never-stored")
    assert caught.value.key == "Errors.User.WrongType"
    with pytest.raises(PreconditionFailed) as key_caught:
        async with store.write() as tx:
            await credentials.add_machine_key(tx, human, PEM)
    assert key_caught.value.key == "Errors.User.WrongType"
    async with store.read() as conn:
        assert await credentials.list_pats(conn, human.id) == []


@pytest.mark.rule("spec/management-api.md §5.2")
async def test_machine_key_is_found_while_unexpired_and_the_user_active(store: Store) -> None:
    org = await make_org(store)
    machine = await make_machine(store, org)
    other = await make_machine(store, org)
    now = utcnow()
    async with store.write() as tx:
        key_id, _ = await credentials.add_machine_key(tx, machine, PEM)
        short_id, _ = await credentials.add_machine_key(tx, machine, PEM, expires_at=now + timedelta(hours=1))
    async with store.read() as conn:
        assert await credentials.machine_key(conn, machine.id, key_id, now) == PEM
        assert await credentials.machine_key(conn, machine.id, key_id, now + timedelta(days=3650)) == PEM
        assert await credentials.machine_key(conn, machine.id, short_id, now) == PEM
        assert await credentials.machine_key(conn, machine.id, short_id, now + timedelta(hours=2)) is None
        assert await credentials.machine_key(conn, other.id, key_id, now) is None  # another user's key id
    async with store.write() as tx:
        await users.change_state(tx, machine, "deactivate")
    async with store.read() as conn:
        assert await credentials.machine_key(conn, machine.id, key_id, now) is None
