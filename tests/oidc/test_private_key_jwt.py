"""`private_key_jwt` client authentication (RFC 7523 §2.2, §3; OIDC Core §9) with a key the way
ZITADEL hands it out: a JSON key file `{"type":"application","keyId","key","appId","clientId"}`."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

from bergfried.domain.apps import AuthMethodType, GrantType, OIDCConfig
from bergfried.oidc.client_auth import ASSERTION_TYPE
from bergfried.services import Services
from bergfried.store import app_keys
from bergfried.web.app import create_app
from tests.factories import make_org, make_project, make_user, make_web_app
from tests.oidc.test_code_flow import REDIRECT, World, code_for
from tests.web.conftest import serving


@pytest.fixture
async def jwt_world(services: Services) -> AsyncIterator[tuple[World, dict[str, Any]]]:
    await services.keyring.ensure_key("RS256")
    store = services.store
    org = await make_org(store)
    user = await make_user(store, org, password=None)
    project = await make_project(store, org)
    app = await make_web_app(store, project, config=OIDCConfig(
        redirect_uris=(REDIRECT,), grant_types=(GrantType.AUTHORIZATION_CODE,),
        auth_method_type=AuthMethodType.PRIVATE_KEY_JWT), secret_hash=None)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    async with store.write() as tx:
        key, _ = await app_keys.add(tx, app, public_pem)
    key_file = {"type": "application", "keyId": key.id, "appId": app.id, "clientId": app.client_id,
                "key": private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode()}
    async with serving(create_app(services.settings, prebuilt=services)) as client:
        yield World(client, services, app.client_id, "", user.id, ""), key_file


def assertion(key_file: dict[str, Any], audience: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {"iss": key_file["clientId"], "sub": key_file["clientId"], "aud": audience, "iat": now,
              "exp": now + 300, "jti": str(uuid.uuid4()), **overrides}
    key = RSAKey.import_key(key_file["key"])
    return jwt.encode({"alg": "RS256", "kid": key_file["keyId"]}, claims, key)


async def _redeem(client: httpx.AsyncClient, code: str, client_assertion: str) -> httpx.Response:
    return await client.post("/oauth/v2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_assertion_type": ASSERTION_TYPE, "client_assertion": client_assertion})


@pytest.mark.rule("RFC 7523 §3: a signed client assertion authenticates the client")
async def test_key_file_assertion_authenticates(jwt_world: tuple[World, dict[str, Any]]) -> None:
    world, key_file = jwt_world
    issuer = world.services.settings.issuer
    response = await _redeem(world.client, await code_for(world), assertion(key_file, issuer))
    assert response.status_code == 200, response.text


@pytest.mark.rule("RFC 7523 §3 item 7: the jti of an assertion is used once")
async def test_assertion_replay_is_refused(jwt_world: tuple[World, dict[str, Any]]) -> None:
    world, key_file = jwt_world
    once = assertion(key_file, world.services.settings.issuer)
    assert (await _redeem(world.client, await code_for(world), once)).status_code == 200
    replay = await _redeem(world.client, await code_for(world), once)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client"


@pytest.mark.parametrize("overrides", [
    {"aud": "https://someone-else.example"},
    {"exp": int(time.time()) - 10},
    {"iat": int(time.time()) - 7200},
    {"sub": "another-client"},
])
@pytest.mark.rule("RFC 7523 §3: aud, exp, iat and sub are checked")
async def test_bad_assertion_claims_are_invalid_client(jwt_world: tuple[World, dict[str, Any]],
                                                       overrides: dict[str, Any]) -> None:
    world, key_file = jwt_world
    response = await _redeem(world.client, await code_for(world),
                             assertion(key_file, world.services.settings.issuer, **overrides))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_assertion_signed_by_another_key_is_refused(jwt_world: tuple[World, dict[str, Any]]) -> None:
    world, key_file = jwt_world
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = {**key_file, "key": other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()).decode()}
    response = await _redeem(world.client, await code_for(world), assertion(forged, world.services.settings.issuer))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_secret_instead_of_assertion_is_refused(jwt_world: tuple[World, dict[str, Any]]) -> None:
    world, _ = jwt_world
    response = await world.client.post("/oauth/v2/token", data={
        "grant_type": "authorization_code", "code": await code_for(world), "redirect_uri": REDIRECT,
        "client_id": world.client_id, "client_secret": "guess"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_assertion_authenticates_an_introspection_once(jwt_world: tuple[World, dict[str, Any]]) -> None:
    """Introspection checks a `private_key_jwt` caller apart from its read of the token (the
    assertion's `jti` is written): the caller is let in once, its replay is refused."""
    world, key_file = jwt_world
    once = assertion(key_file, world.services.settings.issuer)
    form = {"token": "not-a-token", "client_assertion_type": ASSERTION_TYPE, "client_assertion": once}
    first = await world.client.post("/oauth/v2/introspect", data=form)
    assert first.status_code == 200, first.text
    assert first.json() == {"active": False}
    replay = await world.client.post("/oauth/v2/introspect", data=form)
    assert replay.status_code == 400
    assert replay.json()["error"] == "unauthorized_client"
