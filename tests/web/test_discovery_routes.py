"""Discovery and JWKS through the ASGI app on both engines: status, content type, caching headers
(spec/endpoints.md §1), and a JWKS that holds public keys only and the key that signs."""

from __future__ import annotations

import warnings

import httpx
import orjson
import pytest
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import KeySet

from bergfried.keys.generate import Algorithm
from bergfried.oidc.discovery import discovery_document
from bergfried.services import Services

SECTION_1 = "spec/endpoints.md §1"
CACHING = "max-age=300, must-revalidate"
PUBLIC_MEMBERS = {"use", "kty", "kid", "alg", "n", "e", "crv", "x", "y"}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.mark.rule(SECTION_1)
async def test_discovery_is_json_for_the_configured_issuer_with_caching_headers(client: httpx.AsyncClient,
                                                                                 services: Services) -> None:
    response = await client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == CACHING
    assert response.json() == discovery_document(services.settings.issuer)
    assert response.json()["jwks_uri"] == "http://localhost:8080/oauth/v2/keys"
    again = await client.get("/.well-known/openid-configuration")
    assert again.content == response.content


@pytest.mark.rule(SECTION_1)
async def test_jwks_is_json_with_zitadels_cache_control(client: httpx.AsyncClient, services: Services) -> None:
    await services.keyring.ensure_key(Algorithm.RS256)
    response = await client.get("/oauth/v2/keys")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == CACHING
    assert "no-store" not in response.headers["cache-control"]


@pytest.mark.rule("RFC 7517 §9.2")
@pytest.mark.parametrize("algorithm", [Algorithm.RS256, Algorithm.ES256, Algorithm.EDDSA])
async def test_jwks_holds_public_keys_only_and_the_kid_that_signs(client: httpx.AsyncClient, services: Services,
                                                                   algorithm: Algorithm) -> None:
    await services.keyring.ensure_key(algorithm)
    token = await services.keyring.sign({"sub": "1"})
    body = (await client.get("/oauth/v2/keys")).json()
    (key,) = body["keys"]
    assert set(key) <= PUBLIC_MEMBERS
    assert not set(key) & PRIVATE_MEMBERS
    assert key["use"] == "sig"
    assert key["alg"] == str(algorithm)
    obj = jws.extract_compact(token.encode())
    assert obj.headers()["kid"] == key["kid"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # joserfc flags "EdDSA" (RFC 9864)
        verified = jws.deserialize_compact(token, KeySet.import_key_set(body), algorithms=[str(algorithm)])
    assert orjson.loads(verified.payload) == {"sub": "1"}


@pytest.mark.rule("OIDC Core §10.1.1")
async def test_a_rotated_key_is_served_in_the_jwks_at_once(client: httpx.AsyncClient, services: Services) -> None:
    await services.keyring.ensure_key(Algorithm.RS256)
    before = (await client.get("/oauth/v2/keys")).json()["keys"]
    new = await services.keyring.rotate(Algorithm.ES256, keep_published=services.settings.id_token_lifetime)
    after = (await client.get("/oauth/v2/keys")).json()["keys"]
    assert [k["kid"] for k in after] == [new.kid, before[0]["kid"]]


async def test_with_no_key_yet_the_jwks_is_an_empty_set(client: httpx.AsyncClient) -> None:
    response = await client.get("/oauth/v2/keys")
    assert response.status_code == 200
    assert response.json() == {"keys": []}


@pytest.mark.parametrize("path", ["/oauth/v2/keys", "/.well-known/openid-configuration"])
async def test_only_get_is_allowed(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path)
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    head = await client.head(path)
    assert head.status_code == 200
    assert head.content == b""

