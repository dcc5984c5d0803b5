"""Organizations and their domains on both engines."""

from __future__ import annotations

import pytest

from bergfried.domain.orgs import OrgState
from bergfried.errors import AlreadyExists, NotFound, PreconditionFailed
from bergfried.store import orgs
from bergfried.store.tx import Store
from tests.factories import make_org, unique


@pytest.mark.rule("spec/management-api.md §4")
async def test_create_gives_an_active_org_found_by_id_and_by_its_generated_verified_domain(store: Store) -> None:
    org = await make_org(store, "ACME Corp")
    other = await make_org(store, "Initech")
    assert org.state == OrgState.ACTIVE
    assert org.primary_domain == "acme-corp.localhost"
    async with store.write() as tx:
        await orgs.add_domain(tx, org.id, "unverified.example.com", verified=False)
    async with store.read() as conn:
        loaded = await orgs.get(conn, org.id)
        domains = await orgs.list_domains(conn, other.id)
        assert (await orgs.get_by_domain(conn, "acme-corp.localhost")).id == org.id
        assert (await orgs.get_by_domain(conn, "ACME-Corp.localhost")).id == org.id
        assert (await orgs.get_by_domain(conn, "initech.localhost")).id == other.id
        with pytest.raises(NotFound):
            await orgs.get_by_domain(conn, "nobody.localhost")
        with pytest.raises(NotFound):  # only verified domains count
            await orgs.get_by_domain(conn, "unverified.example.com")
        with pytest.raises(NotFound) as caught:
            await orgs.get(conn, "123456789012345678")
    assert loaded == org
    assert [(d.domain, d.is_verified, d.is_primary) for d in domains] == [("initech.localhost", True, True)]
    assert caught.value.key == "Errors.Org.NotFound"


async def test_rename_changes_the_name_keeps_the_domain_and_unknown_org_is_not_found(store: Store) -> None:
    org = await make_org(store, "Old Name")
    async with store.write() as tx:
        details = await orgs.rename(tx, org.id, "  New Name  ")
    assert details.change_date is not None
    assert details.creation_date is None
    assert details.resource_owner == org.id
    async with store.read() as conn:
        loaded = await orgs.get(conn, org.id)
    assert loaded.name == "New Name"
    assert loaded.primary_domain == "old-name.localhost"
    with pytest.raises(NotFound):
        async with store.write() as tx:
            await orgs.rename(tx, "123456789012345678", "Whatever")


@pytest.mark.rule("spec/management-api.md §4")
async def test_org_names_are_unique_case_insensitively_on_create_and_rename(store: Store) -> None:
    await make_org(store, "Umbrella")
    with pytest.raises(AlreadyExists) as caught:
        await make_org(store, "UMBRELLA")
    assert caught.value.key == "Errors.Org.AlreadyExists"
    other = await make_org(store, "Umbrella Two")
    with pytest.raises(AlreadyExists):
        async with store.write() as tx:
            await orgs.rename(tx, other.id, "umbrella")
    async with store.read() as conn:
        assert (await orgs.get(conn, other.id)).name == "Umbrella Two"


@pytest.mark.rule("spec/management-api.md §4")
async def test_set_state_deactivates_reactivates_and_removes(store: Store) -> None:
    org = await make_org(store)
    async with store.write() as tx:
        await orgs.set_state(tx, org.id, OrgState.INACTIVE)
    async with store.read() as conn:
        assert (await orgs.get(conn, org.id)).state == OrgState.INACTIVE
    async with store.write() as tx:
        await orgs.set_state(tx, org.id, OrgState.ACTIVE)
    async with store.read() as conn:
        assert (await orgs.get(conn, org.id)).state == OrgState.ACTIVE
    async with store.write() as tx:
        await orgs.set_state(tx, org.id, OrgState.REMOVED)
    async with store.read() as conn:
        with pytest.raises(NotFound):
            await orgs.get(conn, org.id)
        with pytest.raises(NotFound):  # a removed org is gone by its domain as well
            await orgs.get_by_domain(conn, org.primary_domain)


async def test_add_domain_normalises_and_a_domain_belongs_to_one_org_only(store: Store) -> None:
    org, other = await make_org(store), await make_org(store)
    async with store.write() as tx:
        await orgs.add_domain(tx, org.id, "  Shop.Example.COM ", verified=False)
    async with store.read() as conn:
        domains = {d.domain: d for d in await orgs.list_domains(conn, org.id)}
        verified = await orgs.verified_domains(conn, org.id)
    assert not domains["shop.example.com"].is_verified
    assert not domains["shop.example.com"].is_primary
    assert verified == [org.primary_domain]
    with pytest.raises(AlreadyExists) as caught:
        async with store.write() as tx:
            await orgs.add_domain(tx, other.id, "SHOP.example.com", verified=True)
    assert caught.value.key == "Errors.Org.DomainAlreadyExists"


@pytest.mark.rule("spec/management-api.md §4")
async def test_set_primary_domain_requires_a_verified_domain_of_the_org_and_moves_the_flag(store: Store) -> None:
    org, other = await make_org(store), await make_org(store)
    name = unique("verified") + ".example.com"
    async with store.write() as tx:
        await orgs.add_domain(tx, org.id, "pending.example.com", verified=False)
        await orgs.add_domain(tx, org.id, name, verified=True)
    with pytest.raises(PreconditionFailed) as caught:
        async with store.write() as tx:
            await orgs.set_primary_domain(tx, org.id, "pending.example.com")
    assert caught.value.key == "Errors.Org.DomainNotVerified"
    with pytest.raises(NotFound) as not_on_org:
        async with store.write() as tx:
            await orgs.set_primary_domain(tx, org.id, other.primary_domain)
    assert not_on_org.value.key == "Errors.Org.DomainNotOnOrg"
    async with store.read() as conn:
        assert (await orgs.get(conn, org.id)).primary_domain == org.primary_domain
    async with store.write() as tx:
        await orgs.set_primary_domain(tx, org.id, name.upper())
    async with store.read() as conn:
        loaded = await orgs.get(conn, org.id)
        primaries = [d.domain for d in await orgs.list_domains(conn, org.id) if d.is_primary]
    assert loaded.primary_domain == name
    assert primaries == [name]
