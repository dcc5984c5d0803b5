"""Personal access tokens, machine keys and secrets (spec/management-api.md §5.2)."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bergfried.store import credentials
from tests.api.conftest import World, error_of


@pytest.mark.rule("spec/management-api.md §5.2 AddPersonalAccessToken: the token authenticates API calls")
async def test_pat_lifecycle(world: World) -> None:
    base = f"/management/v1/users/{world.machine.id}/pats"
    added = await world.call("POST", base, world.owner, json={"expirationDate": "2999-01-01T00:00:00Z"})
    assert added.status_code == 200
    token, token_id = added.json()["token"], added.json()["tokenId"]
    # The robot has no membership: authenticated (not 401), then "membership not found".
    assert error_of(await world.call("GET", "/management/v1/orgs/me", token))[:2] == (404, 5)
    listed = (await world.call("POST", base + "/_search", world.owner, json={})).json()
    assert [p["id"] for p in listed["result"]] == [token_id]
    assert listed["result"][0]["expirationDate"] == "2999-01-01T00:00:00Z"
    got = (await world.call("GET", f"{base}/{token_id}", world.owner)).json()["token"]
    assert got["id"] == token_id
    assert "token" not in got
    assert (await world.call("DELETE", f"{base}/{token_id}", world.owner)).status_code == 200
    assert error_of(await world.call("GET", "/management/v1/orgs/me", token))[:2] == (401, 16)
    assert error_of(await world.call("GET", f"{base}/{token_id}", world.owner))[:2] == (404, 5)
    assert error_of(await world.call("DELETE", f"{base}/{token_id}", world.owner))[:2] == (404, 5)


@pytest.mark.rule("spec/management-api.md §5.2: PAT on a human user → FAILED_PRECONDITION Errors.User.WrongType; "
                  "an expiration in the past is INVALID_ARGUMENT")
async def test_pat_rejections(world: World) -> None:
    human = await world.call("POST", f"/management/v1/users/{world.user.id}/pats", world.owner, json={})
    assert error_of(human)[:2] == (400, 9)
    assert "machine user" in error_of(human)[2]
    past = await world.call("POST", f"/management/v1/users/{world.machine.id}/pats", world.owner,
                            json={"expirationDate": "2001-01-01T00:00:00Z"})
    assert error_of(past)[:2] == (400, 3)
    bad_date = await world.call("POST", f"/management/v1/users/{world.machine.id}/pats", world.owner,
                                json={"expirationDate": "tomorrow"})
    assert error_of(bad_date)[:2] == (400, 3)
    assert "AddPersonalAccessTokenRequest.ExpirationDate" in error_of(bad_date)[2]


@pytest.mark.rule("spec/management-api.md §5.2 AddMachineKey: keyDetails is base64 of ZITADEL's JSON key file; "
                  "no expiration → 9999-12-31T23:59:59Z")
async def test_machine_key_file(world: World) -> None:
    base = f"/management/v1/users/{world.machine.id}/keys"
    added = await world.call("POST", base, world.owner, json={"type": "KEY_TYPE_JSON"})
    assert added.status_code == 200
    key_file = json.loads(base64.b64decode(added.json()["keyDetails"]))
    assert set(key_file) == {"type", "keyId", "key", "expirationDate", "userId"}
    assert key_file["type"] == "serviceaccount"
    assert key_file["keyId"] == added.json()["keyId"]
    assert key_file["userId"] == world.machine.id
    assert key_file["expirationDate"] == "9999-12-31T23:59:59Z"
    assert key_file["key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    private = serialization.load_pem_private_key(key_file["key"].encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    async with world.services.store.read() as conn:
        stored = await credentials.machine_key(conn, world.machine.id, key_file["keyId"],
                                               world.services.store.clock())
    assert stored is not None
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert stored == public
    listed = (await world.call("POST", base + "/_search", world.owner, json={})).json()["result"]
    assert listed[0]["type"] == "KEY_TYPE_JSON"
    got = (await world.call("GET", f"{base}/{key_file['keyId']}", world.owner)).json()["key"]
    assert got["expirationDate"] == "9999-12-31T23:59:59Z"
    assert (await world.call("DELETE", f"{base}/{key_file['keyId']}", world.owner)).status_code == 200
    assert error_of(await world.call("GET", f"{base}/{key_file['keyId']}", world.owner))[:2] == (404, 5)


async def test_machine_key_with_own_public_key_and_rejections(world: World) -> None:
    base = f"/management/v1/users/{world.machine.id}/keys"
    own = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    added = await world.call("POST", base, world.owner,
                             json={"type": 1, "publicKey": base64.urlsafe_b64encode(own).decode().rstrip("=")})
    assert added.status_code == 200
    assert "keyDetails" not in added.json()
    unspecified = await world.call("POST", base, world.owner, json={})
    assert error_of(unspecified) == (400, 3, "invalid AddMachineKeyRequest.Type: value must not be in list [0]")
    garbage = await world.call("POST", base, world.owner, json={"type": "KEY_TYPE_JSON", "publicKey": "AAAA"})
    assert error_of(garbage)[:2] == (400, 3)


@pytest.mark.rule("spec/management-api.md §5.2 GenerateMachineSecret: clientId is the preferred login name")
async def test_machine_secret(world: World) -> None:
    path = f"/management/v1/users/{world.machine.id}/secret"
    generated = await world.call("PUT", path, world.owner, json={})
    assert generated.json()["clientId"] == "robot@acme.localhost"
    assert len(generated.json()["clientSecret"]) >= 32
    got = await world.call("GET", f"/management/v1/users/{world.machine.id}", world.owner)
    assert got.json()["user"]["machine"]["hasSecret"] is True
    assert (await world.call("DELETE", path, world.owner)).status_code == 200
    human = await world.call("PUT", f"/management/v1/users/{world.user.id}/secret", world.owner, json={})
    assert error_of(human)[:2] == (400, 9)
