"""`POST /management/v1/claims/_explain`: `bergfried claims explain` over the API (issue 5 item 5),
through real HTTP on both databases. That its verdicts equal the real tokens is tested in
tests/claims/test_explain.py; here: the call, its JSON, and who may make it."""

from __future__ import annotations

import pytest

from bergfried.domain.metadata import Metadata
from bergfried.store import metadata
from tests.api.conftest import World, error_of
from tests.factories import make_project, make_web_app

PATH = "/management/v1/claims/_explain"
SCOPE = "openid profile urn:zitadel:iam:user:metadata"


async def _client_id(world: World) -> str:
    project = await make_project(world.services.store, world.acme, "docs-claims")
    app = await make_web_app(world.services.store, project, "web")
    async with world.services.store.write() as tx:
        await metadata.set_many(tx, world.user, [Metadata("contract", b"1234")])
    return app.client_id


def _decision(body: dict[str, object], destination: str, claim: str) -> dict[str, object]:
    explanation = body["explanation"]
    assert isinstance(explanation, dict)
    return next(d for d in explanation["destinations"][destination] if d["claim"] == claim)


@pytest.mark.rule("issue 5 item 5: the same explanation is available to administrators over the API")
async def test_an_org_owner_gets_every_destination_with_cells_and_values(world: World) -> None:
    client_id = await _client_id(world)
    answer = await world.call("POST", PATH, world.owner, json={"userId": world.user.id, "clientId": client_id,
                                                              "scope": SCOPE})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    explanation = body["explanation"]
    assert (explanation["userId"], explanation["clientId"]) == (world.user.id, client_id)
    assert set(explanation["destinations"]) == {"userinfo", "introspection", "id_token", "access_token"}
    userinfo = _decision(body, "userinfo", "urn:zitadel:iam:user:metadata")
    assert userinfo["emitted"] is True
    assert userinfo["value"] == {"urn:zitadel:iam:user:metadata": {"contract": "MTIzNA"}}
    assert userinfo["cell"]
    email = _decision(body, "userinfo", "email")
    assert email["emitted"] is False  # the scope does not ask for it
    assert email["reason"]
    exp = _decision(body, "id_token", "exp")
    assert isinstance(exp["value"], dict)
    assert isinstance(exp["value"]["exp"], int)  # free JSON keeps numbers as numbers (protobuf Struct)


async def test_one_destination_and_snake_case_fields(world: World) -> None:
    client_id = await _client_id(world)
    answer = await world.call("POST", PATH, world.iam_pat, org=world.acme.id, json={
        "user_id": world.user.id, "client_id": client_id, "scope": SCOPE, "destination": "id_token"})
    assert answer.status_code == 200, answer.text
    assert list(answer.json()["explanation"]["destinations"]) == ["id_token"]


async def test_errors_unknown_client_other_org_validation_and_no_token(world: World) -> None:
    client_id = await _client_id(world)
    body = {"userId": world.user.id, "clientId": client_id, "scope": SCOPE}
    assert error_of(await world.call("POST", PATH, world.owner, json={**body, "clientId": "nope"}))[:2] == (404, 5)
    # an ORG_OWNER of another organization does not see ACME's user
    assert error_of(await world.call("POST", PATH, world.other_owner, json=body))[:2] == (404, 5)
    status, code, message = error_of(await world.call("POST", PATH, world.owner,
                                                      json={**body, "destination": "cookie"}))
    assert (status, code) == (400, 3)
    assert "destination" in message.lower() or "Destination" in message
    assert error_of(await world.call("POST", PATH, world.owner, json={"clientId": client_id}))[:2] == (400, 3)
    assert (await world.call("POST", PATH, None, json=body)).status_code == 401
    assert error_of(await world.call("POST", PATH, world.weak, json=body))[:2] == (403, 7)
