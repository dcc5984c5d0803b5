"""User metadata through the management API (spec/management-api.md §5.3)."""

from __future__ import annotations

import base64

import pytest

from bergfried.store import metadata, orgs
from tests.api.conftest import World, error_of
from tests.factories import events_after, latest_sequence, make_user


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.rule("seed 000: add metadata to a user, as the guide's curl does (no org header: the user is in "
                  "the PAT's own organization)")
async def test_seed_guide_metadata_curl_without_org_header(world: World) -> None:
    async with world.services.store.read() as conn:
        default_org = await orgs.get(conn, world.instance.default_org_id)
    user = await make_user(world.services.store, default_org, "guide.user", password=None)
    response = await world.client.post(
        f"/management/v1/users/{user.id}/metadata/contract", content=b'{"value": "MTIzNA=="}',
        headers={"Content-Type": "application/json", "Accept": "application/json",
                 "Authorization": f"Bearer {world.iam_pat}"})
    assert response.status_code == 200
    assert response.json()["details"]["resourceOwner"] == default_org.id
    async with world.services.store.read() as conn:
        assert await metadata.get_one(conn, user.id, "contract") == b"1234"


@pytest.mark.rule("seed 000: add metadata to a user; spec/management-api.md §5.3 SetUserMetadata")
async def test_seed_guide_metadata_call_with_the_first_start_pat(world: World) -> None:
    before = await latest_sequence(world.services.store)
    response = await world.call("POST", f"/management/v1/users/{world.user.id}/metadata/contract", world.iam_pat,
                                json={"value": "MTIzNA=="}, org=world.acme.id)
    assert response.status_code == 200
    details = response.json()["details"]
    events = await events_after(world.services.store, before)
    assert [e.event_type for e in events] == ["user.metadata.set"]
    assert details["sequence"] == str(events[0].sequence)
    assert details["resourceOwner"] == world.acme.id
    assert "changeDate" in details
    got = await world.call("GET", f"/management/v1/users/{world.user.id}/metadata/contract", world.iam_pat,
                           org=world.acme.id)
    assert got.json()["metadata"]["value"] == "MTIzNA=="
    assert got.json()["metadata"]["key"] == "contract"


@pytest.mark.rule("spec/management-api.md §1: bytes input in any base64 alphabet, output padded standard")
async def test_value_accepts_url_safe_unpadded_base64_and_answers_padded(world: World) -> None:
    path = f"/management/v1/users/{world.user.id}/metadata/k"
    raw = b"\xfb\xff"  # standard base64 `+/8=`, URL-safe `-_8`
    assert (await world.call("POST", path, world.owner, json={"value": "-_8"})).status_code == 200
    got = await world.call("GET", path, world.owner)
    assert base64.b64decode(got.json()["metadata"]["value"]) == raw
    assert got.json()["metadata"]["value"] == "+/8="


@pytest.mark.rule("spec/management-api.md §5.3: setting the same value again writes no event")
async def test_same_value_again_succeeds_without_event(world: World) -> None:
    path = f"/management/v1/users/{world.user.id}/metadata/k"
    await world.call("POST", path, world.owner, json={"value": b64("v")})
    before = await latest_sequence(world.services.store)
    again = await world.call("POST", path, world.owner, json={"value": b64("v")})
    assert again.status_code == 200
    assert await events_after(world.services.store, before) == []


INVALID_SETS = [
    ("k", {}, "SetUserMetadataRequest.Value: value is required"),
    ("k", {"value": ""}, "SetUserMetadataRequest.Value: value length must be between 1 and 500000 bytes"),
    ("k", {"value": base64.b64encode(b"x" * 500_001).decode()}, "SetUserMetadataRequest.Value"),
    ("k" * 201, {"value": "MTIzNA=="}, "SetUserMetadataRequest.Key: value length must be between 1 and 200 runes"),
    ("k", {"value": "not base64!"}, "SetUserMetadataRequest.Value"),
]


@pytest.mark.rule("spec/management-api.md §5.3: value 1–500 000 bytes, key 1–200; validation names the field")
async def test_invalid_set_is_invalid_argument_naming_the_field(world: World) -> None:
    for key, body, field in INVALID_SETS:
        response = await world.call("POST", f"/management/v1/users/{world.user.id}/metadata/{key}", world.owner,
                                    json=body)
        status, code, message = error_of(response)
        assert (status, code) == (400, 3), field
        assert message.startswith("invalid " + field), message
        assert response.json()["details"] == []


async def test_bulk_set_search_and_bulk_remove(world: World) -> None:
    base = f"/management/v1/users/{world.user.id}/metadata"
    bulk = await world.call("POST", base + "/_bulk", world.owner, json={"metadata": [
        {"key": "alpha", "value": b64("1")}, {"key": "beta", "value": b64("2")}, {"key": "gamma", "value": b64("3")},
    ]})
    assert bulk.status_code == 200
    found = await world.call("POST", base + "/_search", world.owner, json={
        "query": {"limit": 1, "offset": "1", "asc": True},
        "queries": [{"keyQuery": {"key": "A", "method": "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE"}}],
    })
    body = found.json()
    assert body["details"]["totalResult"] == "3"
    assert [m["key"] for m in body["result"]] == ["beta"]
    starts = await world.call("POST", base + "/_search", world.owner,
                              json={"queries": [{"key_query": {"key": "g", "method": 2}}]})
    assert [m["key"] for m in starts.json()["result"]] == ["gamma"]
    removed = await world.call("DELETE", base + "/_bulk", world.owner, json={"keys": ["alpha", "beta"]})
    assert removed.status_code == 200
    left = await world.call("POST", base + "/_search", world.owner, json={})
    assert [m["key"] for m in left.json()["result"]] == ["gamma"]


@pytest.mark.rule("spec/management-api.md §5.3: missing key NOT_FOUND, bulk remove of a missing key NOT_FOUND, "
                  "empty bulk set FAILED_PRECONDITION")
async def test_missing_things(world: World) -> None:
    base = f"/management/v1/users/{world.user.id}/metadata"
    assert error_of(await world.call("GET", base + "/nope", world.owner))[:2] == (404, 5)
    assert error_of(await world.call("DELETE", base + "/nope", world.owner))[:2] == (404, 5)
    assert error_of(await world.call("DELETE", base + "/_bulk", world.owner, json={"keys": ["nope"]}))[:2] == (404, 5)
    status, code, message = error_of(await world.call("POST", base + "/_bulk", world.owner, json={"metadata": []}))
    assert (status, code) == (400, 9)
    assert "No metadata" in message


@pytest.mark.rule("spec/management-api.md §5.3: a user of another organization is FAILED_PRECONDITION "
                  "Errors.User.NotFound on commands, NOT_FOUND on queries")
async def test_user_of_another_org_is_not_visible(world: World) -> None:
    base = f"/management/v1/users/{world.other_user.id}/metadata"
    status, code, message = error_of(await world.call("POST", base + "/k", world.owner, json={"value": "MTIzNA=="}))
    assert (status, code) == (400, 9)
    assert "User could not be found" in message
    assert error_of(await world.call("GET", base + "/k", world.owner))[:2] == (404, 5)
    assert error_of(await world.call("POST", base + "/_search", world.owner, json={}))[:2] == (404, 5)
