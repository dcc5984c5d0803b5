"""The API framework: authentication, organization context, permissions, error JSON, OpenAPI
(spec/management-api.md §1, §2, §9; spec/roles-and-permissions.md §2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bergfried.crypto.hashing import generate_secret
from bergfried.domain.members import MemberLevel
from bergfried.store import members, tokens
from bergfried.store.tokens import AccessTokenRecord, Grant
from tests.api.conftest import World, error_of
from tests.factories import latest_sequence

MY_ORG = "/management/v1/orgs/me"


async def access_token(world: World, audience: tuple[str, ...], *, actor: dict[str, str] | None = None) -> str:
    """An opaque access token of the first start's admin (IAM_OWNER), written straight into the
    token store as the token endpoint would."""
    token = generate_secret()
    store = world.services.store
    async with store.read() as conn:
        iam_member = (await members.of_object(conn, MemberLevel.INSTANCE, world.instance.id))[0]
    async with store.write() as tx:
        await tokens.add_access_token(tx, AccessTokenRecord(
            id=tx.new_id(), format="opaque", created_at=tx.now, expires_at=tx.now + timedelta(hours=1),
            grant=Grant(client_id="cli", user_id=iam_member.user_id, scopes=("openid",), audience=audience,
                        actor=actor),
        ), world.services.hasher.hash(token))
    return token


@pytest.mark.rule("spec/management-api.md §2: missing header → UNAUTHENTICATED `auth header missing`, plain")
async def test_missing_authorization_is_401_auth_header_missing(world: World) -> None:
    response = await world.call("GET", MY_ORG)
    assert response.status_code == 401
    assert response.json() == {"code": 16, "message": "auth header missing", "details": []}


@pytest.mark.rule("spec/management-api.md §2: unknown token → UNAUTHENTICATED `Errors.Token.Invalid (AUTH-7fs1e)`")
async def test_unknown_token_is_401_token_invalid(world: World) -> None:
    for header in ["Bearer nope", "Basic abc", "Bearer ", "Bearer a b"]:
        response = await world.call("GET", MY_ORG, headers={"authorization": header})
        assert error_of(response) == (401, 16, "Errors.Token.Invalid (AUTH-7fs1e)"), header


@pytest.mark.rule("spec/management-api.md §2: access tokens need the ZITADEL project in `aud`")
async def test_access_token_needs_the_zitadel_project_audience(world: World) -> None:
    project_id = world.instance.zitadel_project_id
    assert project_id is not None
    good = await access_token(world, ("cli", project_id))
    response = await world.call("GET", MY_ORG, good)
    assert response.status_code == 200
    assert response.json()["org"]["id"] == world.instance.default_org_id
    wrong = await access_token(world, ("cli", "123"))
    assert error_of(await world.call("GET", MY_ORG, wrong)) == (401, 16, "invalid audience (APP-Zxfako)")


@pytest.mark.rule("spec/management-api.md §2: token-exchange tokens with `act` are not for the API")
async def test_access_token_with_actor_is_refused(world: World) -> None:
    project_id = world.instance.zitadel_project_id
    assert project_id is not None
    token = await access_token(world, (project_id,), actor={"sub": "1"})
    status, code, message = error_of(await world.call("GET", MY_ORG, token))
    assert (status, code) == (403, 7)
    assert "Errors.TokenExchange.Token.NotForAPI" in message


@pytest.mark.rule("spec/management-api.md §2: without x-zitadel-orgid the caller's own organization")
async def test_org_context_defaults_to_the_callers_org_and_follows_the_header(world: World) -> None:
    mine = await world.call("GET", MY_ORG, world.owner)
    assert mine.json()["org"]["id"] == world.acme.id
    assert mine.json()["org"]["name"] == "ACME"
    assert mine.json()["org"]["state"] == "ORG_STATE_ACTIVE"
    assert mine.json()["org"]["primaryDomain"] == "acme.localhost"
    chosen = await world.call("GET", MY_ORG, world.iam_pat, org=world.other.id)
    assert chosen.json()["org"]["id"] == world.other.id


@pytest.mark.rule("spec/management-api.md §2: unknown org in x-zitadel-orgid → PERMISSION_DENIED")
async def test_unknown_org_header_is_permission_denied(world: World) -> None:
    response = await world.call("GET", MY_ORG, world.iam_pat, org="123456789")
    assert error_of(response) == (403, 7, "Organisation doesn't exist (AUTH-Bs7Ds)")


@pytest.mark.rule("spec/roles-and-permissions.md §2.5: no membership in the context → NOT_FOUND (404)")
async def test_owner_of_another_org_has_no_membership_there(world: World) -> None:
    response = await world.call("GET", MY_ORG, world.other_owner, org=world.acme.id)
    assert error_of(response) == (404, 5, "membership not found (AUTHZ-cdgFk)")


@pytest.mark.rule("spec/roles-and-permissions.md §2.4: no matching permission → PERMISSION_DENIED")
async def test_member_without_the_permission_is_403(world: World) -> None:
    response = await world.call("GET", MY_ORG, world.weak)
    status, code, message = error_of(response)
    assert (status, code, message) == (403, 7, "No matching permissions found (AUTH-5mWD2)")
    assert response.json()["details"][0]["id"] == "AUTH-5mWD2"


@pytest.mark.rule("spec/management-api.md §9: wrong method 405 code 12, bad JSON 400 code 3")
async def test_gateway_errors(world: World) -> None:
    wrong = await world.call("PATCH", MY_ORG, world.owner)
    assert (wrong.status_code, wrong.json()["code"]) == (405, 12)
    bad = await world.client.post(f"/management/v1/users/{world.user.id}/metadata/k", content=b"{nope",
                                  headers={"authorization": f"Bearer {world.owner}"})
    assert error_of(bad)[:2] == (400, 3)
    array = await world.client.post(f"/management/v1/users/{world.user.id}/metadata/k", content=b"[]",
                                    headers={"authorization": f"Bearer {world.owner}"})
    assert error_of(array)[:2] == (400, 3)


@pytest.mark.rule("spec/management-api.md §1: snake_case input, unknown fields discarded")
async def test_snake_case_and_unknown_fields(world: World) -> None:
    path = f"/management/v1/users/{world.user.id}/metadata/_search"
    await world.call("POST", f"/management/v1/users/{world.user.id}/metadata/k", world.owner,
                     json={"value": "MTIzNA==", "whatever": {"x": 1}})
    found = await world.call("POST", path, world.owner, json={"query": {"offset": 0, "limit": "5"}, "extra": 1,
                                                              "queries": [{"key_query": {"key": "k"}}]})
    assert found.status_code == 200
    assert found.json()["details"]["totalResult"] == "1"
    assert int(found.json()["details"]["processedSequence"]) > 0
    assert found.json()["details"]["viewTimestamp"].endswith("Z")


async def test_openapi_document_and_docs_page_are_served(world: World) -> None:
    document = (await world.client.get("/openapi/v2/swagger/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    operation = document["paths"]["/management/v1/users/{id}/metadata/{key}"]["post"]
    assert operation["operationId"] == "SetUserMetadata"
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) == {"value"}
    assert body["properties"]["value"]["format"] == "byte"
    ids = [op["operationId"] for methods in document["paths"].values() for op in methods.values()]
    assert len(ids) == len(set(ids))
    assert "AdminService_GetLoginPolicy" in ids
    assert "ManagementService_GetLoginPolicy" in ids
    page = await world.client.get("/openapi/v2/swagger/")
    assert page.status_code == 200
    assert "SetUserMetadata" in page.text
    assert "<script" not in page.text


@pytest.mark.rule("issue 6 item 4: a change commits fully or not at all; rejected calls write no event")
async def test_rejected_calls_write_nothing(world: World) -> None:
    before = await latest_sequence(world.services.store)
    user = f"/management/v1/users/{world.user.id}"
    rejected = [
        await world.call("POST", user + "/metadata/_bulk", world.owner,
                         json={"metadata": [{"key": "ok", "value": "MQ=="}, {"key": "", "value": "MQ=="}]}),
        await world.call("DELETE", user + "/metadata/_bulk", world.owner, json={"keys": ["missing"]}),
        await world.call("POST", user + "/_unlock", world.owner, json={}),
        await world.call("POST", user + "/metadata/k", world.weak, json={"value": "MQ=="}),
        await world.call("POST", "/management/v1/users/human", world.owner, json={
            "userName": "road.runner", "profile": {"firstName": "A", "lastName": "B"},
            "email": {"email": "a@b.ch", "isEmailVerified": True}}),
    ]
    assert [r.status_code for r in rejected] == [400, 404, 400, 403, 409]
    assert await latest_sequence(world.services.store) == before


@pytest.mark.rule("proto: ListQuery.limit is a uint32 — a negative limit is an invalid argument (400, code 3)")
async def test_negative_list_limit_is_refused(world: World) -> None:
    path = f"/management/v1/users/{world.user.id}/metadata/_search"
    refused = await world.call("POST", path, world.owner, json={"query": {"limit": -1}})
    assert error_of(refused)[:2] == (400, 3)
    assert "Query.Limit" in refused.json()["message"]
