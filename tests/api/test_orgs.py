"""Organizations through the management API (spec/management-api.md §4)."""

from __future__ import annotations

import pytest

from tests.api.conftest import World, error_of


@pytest.mark.rule("spec/management-api.md §4 AddOrg: generated verified primary domain, caller becomes ORG_OWNER")
async def test_add_org_makes_the_caller_its_owner(world: World) -> None:
    added = await world.call("POST", "/management/v1/orgs", world.iam_pat, json={"name": "Road Runner Inc"})
    assert added.status_code == 200
    org_id = added.json()["id"]
    assert added.json()["details"]["resourceOwner"] == org_id
    got = (await world.call("GET", "/management/v1/orgs/me", world.iam_pat, org=org_id)).json()["org"]
    assert got["primaryDomain"] == "road-runner-inc.localhost"
    assert got["name"] == "Road Runner Inc"
    duplicate = await world.call("POST", "/management/v1/orgs", world.iam_pat, json={"name": "road runner inc"})
    assert error_of(duplicate)[:2] == (409, 6)
    assert error_of(await world.call("POST", "/management/v1/orgs", world.iam_pat, json={"name": ""}))[:2] == (400, 3)


@pytest.mark.rule("spec/roles-and-permissions.md §3: ORG_OWNER has no org.create")
async def test_org_owner_cannot_add_orgs(world: World) -> None:
    response = await world.call("POST", "/management/v1/orgs", world.owner, json={"name": "Mine"})
    assert error_of(response) == (403, 7, "No matching permissions found (AUTH-5mWD2)")


async def test_rename_deactivate_reactivate(world: World) -> None:
    assert (await world.call("PUT", "/management/v1/orgs/me", world.owner, json={"name": "ACME 2"})).status_code == 200
    got = (await world.call("GET", "/management/v1/orgs/me", world.owner)).json()["org"]
    assert got["name"] == "ACME 2"
    assert (await world.call("POST", "/management/v1/orgs/me/_deactivate", world.owner, json={})).status_code == 200
    again = await world.call("POST", "/management/v1/orgs/me/_deactivate", world.owner, json={})
    assert error_of(again)[:2] == (400, 9)
    got = (await world.call("GET", "/management/v1/orgs/me", world.owner)).json()["org"]
    assert got["state"] == "ORG_STATE_INACTIVE"
    assert (await world.call("POST", "/management/v1/orgs/me/_reactivate", world.owner, json={})).status_code == 200


@pytest.mark.rule("spec/management-api.md §4: remove org; the default organization stays")
async def test_remove_org(world: World) -> None:
    assert (await world.call("DELETE", "/management/v1/orgs/me", world.iam_pat, org=world.other.id)).status_code == 200
    gone = await world.call("GET", "/management/v1/orgs/me", world.iam_pat, org=world.other.id)
    assert error_of(gone) == (403, 7, "Organisation doesn't exist (AUTH-Bs7Ds)")
    default = await world.call("DELETE", "/management/v1/orgs/me", world.iam_pat)
    assert error_of(default)[:2] == (400, 9)


@pytest.mark.rule("spec/management-api.md §4: domains; set primary needs a verified domain; login names follow it")
async def test_domains_and_primary(world: World) -> None:
    added = await world.call("POST", "/management/v1/orgs/me/domains", world.owner, json={"domain": "ACME.com"})
    assert added.status_code == 200
    dup = await world.call("POST", "/management/v1/orgs/me/domains", world.owner, json={"domain": "acme.com"})
    assert error_of(dup)[:2] == (409, 6)
    listed = (await world.call("POST", "/management/v1/orgs/me/domains/_search", world.owner, json={
        "queries": [{"domainNameQuery": {"name": ".com", "method": "TEXT_QUERY_METHOD_ENDS_WITH"}}]})).json()
    assert listed["result"] == [{**listed["result"][0], "domainName": "acme.com", "isVerified": True,
                                 "orgId": world.acme.id}]
    assert (await world.call("POST", "/management/v1/orgs/me/domains/acme.com/_set_primary",
                             world.owner)).status_code == 200
    user = (await world.call("GET", f"/management/v1/users/{world.user.id}", world.owner)).json()["user"]
    assert user["preferredLoginName"] == "road.runner@acme.com"
    assert sorted(user["loginNames"]) == ["road.runner@acme.com", "road.runner@acme.localhost"]
    primary = await world.call("DELETE", "/management/v1/orgs/me/domains/acme.com", world.owner)
    assert error_of(primary)[:2] == (400, 9)
    assert (await world.call("DELETE", "/management/v1/orgs/me/domains/acme.localhost",
                             world.owner)).status_code == 200
    missing = await world.call("POST", "/management/v1/orgs/me/domains/nope.org/_set_primary", world.owner)
    assert error_of(missing)[:2] == (404, 5)
    by_domain = await world.call("GET", "/management/v1/global/orgs/_by_domain?domain=acme.com", world.owner)
    assert by_domain.json()["org"]["id"] == world.acme.id


@pytest.mark.rule("spec/management-api.md §4: org metadata, same shapes and limits as user metadata")
async def test_org_metadata(world: World) -> None:
    assert (await world.call("POST", "/management/v1/metadata/tier", world.owner,
                             json={"value": "Z29sZA=="})).status_code == 200
    assert (await world.call("POST", "/management/v1/metadata/_bulk", world.owner, json={
        "metadata": [{"key": "a", "value": "MQ=="}, {"key": "b", "value": "Mg=="}]})).status_code == 200
    got = (await world.call("GET", "/management/v1/metadata/tier", world.owner)).json()["metadata"]
    assert (got["key"], got["value"], got["details"]["resourceOwner"]) == ("tier", "Z29sZA==", world.acme.id)
    listed = (await world.call("POST", "/management/v1/metadata/_search", world.owner, json={})).json()
    assert [m["key"] for m in listed["result"]] == ["a", "b", "tier"]
    assert (await world.call("DELETE", "/management/v1/metadata/_bulk", world.owner,
                             json={"keys": ["a", "b"]})).status_code == 200
    assert (await world.call("DELETE", "/management/v1/metadata/tier", world.owner)).status_code == 200
    assert error_of(await world.call("GET", "/management/v1/metadata/tier", world.owner))[:2] == (404, 5)
    other = await world.call("POST", "/management/v1/metadata/_search", world.other_owner, json={})
    assert "result" not in other.json()
    bad = await world.call("POST", "/management/v1/metadata/x", world.owner, json={"value": ""})
    assert error_of(bad)[2].startswith("invalid SetOrgMetadataRequest.Value")
