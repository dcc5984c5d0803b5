"""Organization metadata and project grants in the world file: a project of one declared
organization granted to another, whose user gets roles through that grant (ZITADEL's
`project grant` → `user grant` route), idempotent, pruned with `--prune`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bergfried.apply.current import find_org
from bergfried.errors import ConfigError
from bergfried.services import Services
from bergfried.store import grants, metadata, projects, users
from tests.apply.conftest import apply_text, rendered
from tests.factories import latest_sequence

WORLD = """
orgs:
  - name: Vendor
    metadata: {tier: gold}
    projects:
      - name: portal
        roles:
          - {key: admin, displayName: Administrator}
          - {key: reader, displayName: Reader}
        grants:
          - {grantedOrg: Customer, roleKeys: [reader]}
  - name: Customer
    users:
      - userName: carol
        machine: {name: Carol}
        grants:
          - {project: portal, projectOrg: Vendor, roleKeys: [reader]}
"""
PROJECT_GRANTS = "        grants:\n          - {grantedOrg: Customer, roleKeys: [reader]}\n"


async def test_a_project_granted_to_another_org_whose_user_gets_its_roles(started: Services, tmp_path: Path) -> None:
    outcome = await apply_text(started, WORLD, tmp_path)
    assert rendered(outcome) == [
        "+ create organization Vendor",
        "+ create metadata Vendor tier",
        "+ create project Vendor/portal",
        "+ create role Vendor/portal/admin",
        "+ create role Vendor/portal/reader",
        "+ create organization Customer",
        "+ create project grant Vendor/portal to Customer",
        "+ create user Customer/carol",
        "+ create grant Customer/carol on Vendor/portal",
    ]
    async with started.store.read() as conn:
        vendor, customer = await find_org(conn, "Vendor"), await find_org(conn, "Customer")
        assert vendor is not None
        assert customer is not None
        assert {r.key: r.value for r in await conn.execute(metadata.search_for(metadata.of_org(vendor.id)))} == {
            "tier": b"gold"}
        portal = await projects.find_by_name(conn, vendor.id, "portal")
        assert portal is not None
        project_grant = await grants.find_project_grant(conn, portal.id, customer.id)
        assert project_grant is not None
        assert project_grant.role_keys == ("reader",)
        carol = await users.find_by_login_name(conn, "carol@customer.localhost", must_be_domain=True)
        assert carol is not None
        (user_grant,) = await grants.list_user_grants(conn, user_id=carol.id)
    assert (user_grant.org_id, user_grant.project_grant_id, user_grant.role_keys) == (
        customer.id, project_grant.id, ("reader",))
    sequence = await latest_sequence(started.store)
    assert (await apply_text(started, WORLD, tmp_path)).actions == []
    assert await latest_sequence(started.store) == sequence


async def test_project_grants_change_and_prune(started: Services, tmp_path: Path) -> None:
    await apply_text(started, WORLD, tmp_path)
    wider = WORLD.replace("{grantedOrg: Customer, roleKeys: [reader]}",
                          "{grantedOrg: Customer, roleKeys: [admin, reader]}")
    assert rendered(await apply_text(started, wider, tmp_path)) == [
        "~ change project grant Vendor/portal to Customer: roleKeys: ['reader'] → ['admin', 'reader']"]
    ungranted = WORLD.replace(PROJECT_GRANTS, "        grants: []\n").replace(
        "    metadata: {tier: gold}\n", "    metadata: {}\n").replace(
        "        grants:\n          - {project: portal, projectOrg: Vendor, roleKeys: [reader]}\n",
        "        grants: []\n")
    assert rendered(await apply_text(started, ungranted, tmp_path, prune=True, dry_run=True)) == [
        "- delete grant Customer/carol on Vendor/portal",
        "- delete metadata Vendor tier",
        "- delete project grant Vendor/portal to Customer",
    ]
    await apply_text(started, ungranted, tmp_path, prune=True)
    assert (await apply_text(started, ungranted, tmp_path, prune=True)).actions == []


@pytest.mark.parametrize(("edit", "message"), [
    (("grantedOrg: Customer", "grantedOrg: Elsewhere"),
     "world.yaml: orgs[0].projects[0].grants[0].grantedOrg: organization 'Elsewhere' is not declared in this file"),
    (("{grantedOrg: Customer, roleKeys: [reader]}", "{grantedOrg: Customer, roleKeys: [owner]}"),
     "world.yaml: orgs[0].projects[0].grants[0].roleKeys: project 'portal' has no role 'owner'"),
    (("{project: portal, projectOrg: Vendor, roleKeys: [reader]}",
      "{project: portal, projectOrg: Vendor, roleKeys: [admin]}"),
     "world.yaml: orgs[1].users[0].grants[0].roleKeys: project 'Vendor/portal' has no role 'admin'"),
    ((PROJECT_GRANTS, ""),
     "world.yaml: orgs[1].users[0].grants[0].project: project 'portal' of organization 'Vendor' is not granted "
     "to 'Customer'"),
])
async def test_grant_errors_name_the_path(started: Services, tmp_path: Path, edit: tuple[str, str],
                                          message: str) -> None:
    text = WORLD.replace(*edit)
    with pytest.raises(ConfigError) as caught:
        await apply_text(started, text, tmp_path, dry_run=True)
    assert str(caught.value) == message
