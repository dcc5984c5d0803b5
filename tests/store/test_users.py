"""Human and machine users on both engines: creation, lookup, state, removal, passwords."""

from __future__ import annotations

import pytest

from bergfried.domain.metadata import Metadata
from bergfried.domain.users import HumanUser, MachineUser, Profile, UserState
from bergfried.errors import AlreadyExists, PreconditionFailed
from bergfried.store import grants, metadata, users
from bergfried.store import tables as t
from bergfried.store.tx import Store
from tests.factories import count_rows, events_after, make_machine, make_org, make_project, make_user

FAKE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$not-a-real-hash"


async def _reload(store: Store, user_id: str) -> HumanUser:
    async with store.read() as conn:
        user = await users.get(conn, user_id)
    assert isinstance(user, HumanUser)
    return user


@pytest.mark.rule("spec/management-api.md §5.1")
async def test_human_user_round_trips_and_starts_initial_without_password_or_verified_email(store: Store) -> None:
    org = await make_org(store)
    async with store.write() as tx:
        created, details = await users.create_human(
            tx, org.id, " wile.e ", Profile(first_name="Wile", last_name="Coyote", nick_name="W",
                                            display_name="Wile E. Coyote", preferred_language="en"),
            "Wile@Acme.example", email_verified=True, phone="+41791234567",
        )
    assert details.resource_owner == org.id
    assert details.creation_date is not None
    loaded = await _reload(store, created.id)
    assert loaded == created
    assert loaded.username == "wile.e"
    assert loaded.state == UserState.ACTIVE
    assert loaded.profile.display_name == "Wile E. Coyote"
    assert (loaded.email, loaded.is_email_verified, loaded.phone) == ("Wile@Acme.example", True, "+41791234567")
    assert loaded.password_hash is None
    async with store.write() as tx:  # no password and an unverified e-mail: INITIAL
        pending, _ = await users.create_human(tx, org.id, "pending", Profile("Pen", "Ding"), "pending@example.com")
    assert (await _reload(store, pending.id)).state == UserState.INITIAL


@pytest.mark.rule("spec/management-api.md §5.2")
async def test_machine_user_round_trips_and_an_unknown_user_is_a_failed_precondition(store: Store) -> None:
    org = await make_org(store)
    async with store.write() as tx:
        machine, _ = await users.create_machine(tx, org.id, "ci-bot", "CI Bot", description="builds things")
    async with store.read() as conn:
        loaded = await users.get(conn, machine.id)
    assert isinstance(loaded, MachineUser)
    assert loaded == machine
    assert (loaded.name, loaded.description, loaded.state, loaded.has_secret) == (
        "CI Bot", "builds things", UserState.ACTIVE, False)
    async with store.write() as tx:
        await users.set_machine_secret(tx, machine, "secret-hash")
    async with store.read() as conn:
        reloaded = await users.get(conn, machine.id)
        assert await users.machine_secret_hash(conn, machine.id) == "secret-hash"
    assert isinstance(reloaded, MachineUser)
    assert reloaded.has_secret
    async with store.read() as conn:
        assert await users.find(conn, "123456789012345678") is None
        with pytest.raises(PreconditionFailed) as caught:  # ZITADEL: FAILED_PRECONDITION, not 404
            await users.get(conn, "123456789012345678")
    assert caught.value.key == "Errors.User.NotFound"


@pytest.mark.rule("spec/management-api.md §5.1")
async def test_find_by_login_name_is_username_at_verified_domain_or_bare_name_without_policy(store: Store) -> None:
    org = await make_org(store, "Acme")
    other = await make_org(store, "Globex")
    user = await make_user(store, org, "road.runner", password=None)
    await make_user(store, other, "road.runner", password=None)
    machine = await make_machine(store, org, "bot")
    async with store.read() as conn:
        found = await users.find_by_login_name(conn, "road.runner@acme.localhost", must_be_domain=True)
        shouted = await users.find_by_login_name(conn, " ROAD.Runner@ACME.localhost ", must_be_domain=True)
        found_machine = await users.find_by_login_name(conn, "bot@acme.localhost", must_be_domain=True)
        wrong_domain = await users.find_by_login_name(conn, "road.runner@nowhere.localhost", must_be_domain=True)
        bare = await users.find_by_login_name(conn, "road.runner", must_be_domain=True)
    assert found is not None
    assert found.id == user.id
    assert shouted is not None
    assert shouted.id == user.id
    assert found_machine is not None
    assert found_machine.id == machine.id
    assert wrong_domain is None
    assert bare is None  # the bare user name is no login name when the domain is required
    async with store.read() as conn:  # without the domain policy it is
        plain = await users.find_by_login_name(conn, "bot", must_be_domain=False)
    assert plain is not None
    assert plain.id == machine.id


@pytest.mark.rule("spec/login.md §3")
async def test_find_by_login_name_accepts_a_unique_email_but_not_an_ambiguous_one(store: Store) -> None:
    org = await make_org(store)
    unique_user = await make_user(store, org, "solo", password=None)  # solo@example.com
    async with store.write() as tx:
        await users.create_human(tx, org.id, "twin-a", Profile("Twin", "A"), "twins@example.com")
        await users.create_human(tx, org.id, "twin-b", Profile("Twin", "B"), "Twins@example.com")
    async with store.read() as conn:
        by_email = await users.find_by_login_name(conn, "SOLO@example.com", must_be_domain=True)
        ambiguous = await users.find_by_login_name(conn, "twins@example.com", must_be_domain=True)
    assert by_email is not None
    assert by_email.id == unique_user.id
    assert ambiguous is None


@pytest.mark.rule("spec/management-api.md §5.1")
async def test_change_state_follows_zitadels_transitions(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org, password=None)
    async with store.write() as tx:
        await users.change_state(tx, user, "deactivate")
    user = await _reload(store, user.id)
    assert user.state == UserState.INACTIVE
    with pytest.raises(PreconditionFailed) as already:
        async with store.write() as tx:
            await users.change_state(tx, user, "deactivate")
    assert already.value.key == "Errors.User.AlreadyInactive"
    with pytest.raises(PreconditionFailed):
        async with store.write() as tx:
            await users.change_state(tx, user, "lock")
    async with store.write() as tx:
        await users.change_state(tx, user, "reactivate")
    user = await _reload(store, user.id)
    assert user.state == UserState.ACTIVE
    with pytest.raises(PreconditionFailed) as not_locked:
        async with store.write() as tx:
            await users.change_state(tx, user, "unlock")
    assert not_locked.value.key == "Errors.User.NotLocked"
    async with store.write() as tx:
        await users.record_password_check(tx, user, succeeded=False, max_attempts=0)
        await users.change_state(tx, user, "lock")
    user = await _reload(store, user.id)
    assert (user.state, user.failed_password_attempts) == (UserState.LOCKED, 1)
    async with store.write() as tx:
        await users.change_state(tx, user, "unlock")
    user = await _reload(store, user.id)
    assert (user.state, user.failed_password_attempts) == (UserState.ACTIVE, 0)


@pytest.mark.rule("spec/management-api.md §5.1")
async def test_usernames_are_unique_per_org_case_insensitively_but_not_across_orgs(store: Store) -> None:
    org, other = await make_org(store), await make_org(store)
    await make_user(store, org, "Taken", password=None)
    with pytest.raises(AlreadyExists) as caught:
        await make_user(store, org, "taken", password=None)
    assert caught.value.key == "Errors.User.Username.AlreadyExists"
    with pytest.raises(AlreadyExists):
        await make_machine(store, org, "TAKEN")
    twin = await make_user(store, other, "taken", password=None)
    assert twin.org_id == other.id
    async with store.read() as conn:
        assert len(await users.list_in_org(conn, org.id)) == 1


@pytest.mark.rule("spec/management-api.md §5.1")
async def test_remove_frees_the_username_and_deletes_grants_and_metadata(store: Store) -> None:
    org = await make_org(store)
    project = await make_project(store, org)
    user = await make_user(store, org, "leaver", password=None)
    async with store.write() as tx:
        await metadata.set_many(tx, user, [Metadata("contract", b"1234")])
        await grants.add_user_grant(tx, user, project, ["user"])
    async with store.write() as tx:
        details = await users.remove(tx, user)
    assert details.change_date is not None
    async with store.read() as conn:
        assert await users.find(conn, user.id) is None
        assert await users.find_by_login_name(conn, f"leaver@{org.primary_domain}", must_be_domain=True) is None
        assert await users.find_by_login_name(conn, "leaver@example.com", must_be_domain=True) is None
        assert await metadata.get_all(conn, user.id) == {}
        assert await grants.list_user_grants(conn, user_id=user.id) == []
        assert await users.list_in_org(conn, org.id) == []
    assert await count_rows(store, t.user_metadata) == 0
    successor = await make_user(store, org, "leaver", password=None)
    async with store.read() as conn:
        found = await users.find_by_login_name(conn, f"leaver@{org.primary_domain}", must_be_domain=True)
    assert found is not None
    assert found.id == successor.id != user.id


async def test_set_password_stores_the_hash_activates_an_initial_user_and_resets_failures(store: Store) -> None:
    org = await make_org(store)
    async with store.write() as tx:
        user, _ = await users.create_human(tx, org.id, "newbie", Profile("New", "Bie"), "newbie@example.com")
        await users.record_password_check(tx, user, succeeded=False, max_attempts=0)
    assert user.state == UserState.INITIAL
    async with store.write() as tx:
        await users.set_password(tx, user, FAKE_HASH, change_required=True)
    loaded = await _reload(store, user.id)
    assert loaded.password_hash == FAKE_HASH
    assert loaded.state == UserState.ACTIVE
    assert loaded.password_change_required is True
    assert loaded.password_changed_at is not None
    assert loaded.failed_password_attempts == 0


@pytest.mark.rule("spec/login.md §5")
async def test_record_password_check_counts_locks_at_max_resets_on_success_and_0_never_locks(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org, password=None)
    counts = []
    for _ in range(2):
        async with store.write() as tx:
            counts.append(await users.record_password_check(tx, user, succeeded=False, max_attempts=3))
    assert counts == [1, 2]
    assert (await _reload(store, user.id)).state == UserState.ACTIVE
    async with store.write() as tx:
        assert await users.record_password_check(tx, user, succeeded=True, max_attempts=3) == 0
    reloaded = await _reload(store, user.id)
    assert (reloaded.failed_password_attempts, reloaded.state) == (0, UserState.ACTIVE)
    before = (await events_after(store, 0))[-1].sequence
    for expected in (1, 2, 3):
        async with store.write() as tx:
            assert await users.record_password_check(tx, user, succeeded=False, max_attempts=3) == expected
    locked = await _reload(store, user.id)
    assert (locked.failed_password_attempts, locked.state) == (3, UserState.LOCKED)
    async with store.write() as tx:  # a failure racing the lock is counted, but locks only once
        assert await users.record_password_check(tx, user, succeeded=False, max_attempts=3) == 4
    types = [e.event_type for e in await events_after(store, before, aggregate_id=user.id)]
    assert types.count("user.human.password.check.failed") == 4
    assert types.count("user.locked") == 1
    assert types.index("user.locked") == 3  # right after the third failure
    assert (await _reload(store, user.id)).state == UserState.LOCKED
    never = await make_user(store, org, password=None)
    for _ in range(4):  # max_attempts 0 (ZITADEL's default) never locks
        async with store.write() as tx:
            await users.record_password_check(tx, never, succeeded=False, max_attempts=0)
    reloaded_never = await _reload(store, never.id)
    assert (reloaded_never.failed_password_attempts, reloaded_never.state) == (4, UserState.ACTIVE)


@pytest.mark.rule("spec/management-api.md §4: removing an organization removes its users")
async def test_users_of_a_removed_organization_are_not_found_by_any_login_name(store: Store) -> None:
    from bergfried.domain.orgs import OrgState
    from bergfried.store import orgs

    org = await make_org(store, "Acme")
    await make_user(store, org, "gone", password=None)  # gone@example.com
    names = (("gone@acme.localhost", True), ("gone", False), ("gone@example.com", True))
    async with store.read() as conn:
        before = [await users.find_by_login_name(conn, n, must_be_domain=m) for n, m in names]
    assert None not in before
    async with store.write() as tx:
        await orgs.set_state(tx, org.id, OrgState.REMOVED)
    async with store.read() as conn:
        after = [await users.find_by_login_name(conn, n, must_be_domain=m) for n, m in names]
    assert after == [None, None, None]
