"""The authorization code flow through the ASGI app, on both engines. The login step is done by
linking a session to the auth request directly (what the hosted login does after the password);
the browser flow through the hosted login is in tests/browser."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from bergfried.crypto.hashing import generate_secret
from bergfried.domain.apps import AppType, AuthMethodType, GrantType, OIDCConfig, ResponseType, TokenType
from bergfried.domain.metadata import Metadata
from bergfried.services import Services
from bergfried.store import auth_requests, grants, metadata
from bergfried.store import tables as t
from bergfried.web.app import create_app
from tests.factories import make_org, make_project, make_user, make_web_app
from tests.web.conftest import serving

REDIRECT = "http://localhost"


@dataclass
class World:
    client: httpx.AsyncClient
    services: Services
    client_id: str
    secret: str
    user_id: str
    public_client_id: str


@pytest.fixture
async def world(services: Services) -> AsyncIterator[World]:
    await services.keyring.ensure_key("RS256")
    store = services.store
    org = await make_org(store, "ACME")
    user = await make_user(store, org, "road.runner", password=None)
    project = await make_project(store, org, "docs-claims")
    secret = generate_secret()
    app = await make_web_app(store, project, "web", OIDCConfig(
        redirect_uris=(REDIRECT,),
        grant_types=(GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN, GrantType.IMPLICIT),
        response_types=(ResponseType.CODE, ResponseType.ID_TOKEN, ResponseType.ID_TOKEN_TOKEN),
        auth_method_type=AuthMethodType.BASIC, post_logout_redirect_uris=(REDIRECT,),
    ), secret_hash=services.hasher.hash(secret))
    public = await make_web_app(store, project, "spa", OIDCConfig(
        redirect_uris=(REDIRECT,), app_type=AppType.USER_AGENT, auth_method_type=AuthMethodType.NONE,
        access_token_type=TokenType.JWT, dev_mode=True,  # http://localhost for a SPA needs dev mode
    ), secret_hash=None)
    async with store.write() as tx:
        await metadata.set_many(tx, user, [Metadata("contract", b"1234")])
        await grants.add_user_grant(tx, user, project, ["user"])
    async with serving(create_app(services.settings, prebuilt=services)) as client:
        yield World(client, services, app.client_id, secret, user.id, public.client_id)


def basic(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: form-URL-encode each half, then base64."""
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    return "Basic " + base64.b64encode(raw.encode()).decode()


async def login(world: World, location: str) -> str:
    """Stand in for the hosted login: link a fresh session to the auth request, follow the
    callback, return the final redirect."""
    assert location.startswith("/ui/login/login?authRequestID=")
    request_id = location.split("=", 1)[1]
    await link(world, request_id)
    response = await world.client.get(f"/oauth/v2/authorize/callback?id={request_id}")
    assert response.status_code == 302
    return str(response.headers["location"])


async def link(world: World, request_id: str) -> None:
    """What the hosted login does once the password is checked."""
    async with world.services.store.write() as tx:
        session_id = tx.new_id()
        await tx.conn.execute(t.sessions.insert().values(
            id=session_id, user_id=world.user_id, user_agent_id="ua", factors={}, metadata={},
            password_checked_at=tx.now, created_at=tx.now, changed_at=tx.now))
        assert await auth_requests.link_session(tx, request_id, session_id=session_id, user_id=world.user_id,
                                                auth_time=tx.now, amr=["pwd"])


async def authorize(world: World, **params: str) -> httpx.Response:
    base = {"client_id": world.client_id, "redirect_uri": REDIRECT, "response_type": "code",
            "scope": "openid profile email urn:zitadel:iam:user:metadata", "state": "s1"}
    base.update(params)
    return await world.client.get("/oauth/v2/authorize", params=base)


async def code_for(world: World, **params: str) -> str:
    response = await authorize(world, **params)
    assert response.status_code == 302, response.text
    final = await login(world, response.headers["location"])
    query = parse_qs(urlsplit(final).query)
    assert query["state"] == [params.get("state", "s1")]
    return query["code"][0]


async def redeem(world: World, code: str, **extra: str) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **extra}
    return await world.client.post("/oauth/v2/token", data=form,
                                   headers={"authorization": basic(world.client_id, world.secret)})


async def verify_id_token(world: World, id_token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(json.loads((await world.client.get("/oauth/v2/keys")).content))
    return dict(jwt.decode(id_token, keys).claims)


@pytest.mark.rule("seed 000: token request with Basic auth, then userinfo-ready tokens")
async def test_code_flow_with_basic_auth_as_in_the_seed_guide(world: World) -> None:
    code = await code_for(world, nonce="n-1")
    response = await redeem(world, code)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert "." not in body["access_token"]  # opaque, URL-safe, no dots (spec/endpoints.md §8)
    assert 43000 < body["expires_in"] < 43200
    assert "refresh_token" not in body  # no offline_access
    claims = await verify_id_token(world, body["id_token"])
    assert claims["iss"] == world.services.settings.issuer
    assert claims["sub"] == world.user_id
    assert claims["aud"][0] == world.client_id
    assert claims["azp"] == world.client_id
    assert claims["nonce"] == "n-1"
    assert claims["amr"] == ["pwd"]
    assert "sid" in claims
    assert "auth_time" in claims
    assert claims["preferred_username"].startswith("road.runner@")
    assert "email" not in claims  # User Info inside ID Token is off
    assert claims["urn:zitadel:iam:user:metadata"] == {"contract": "MTIzNA"}
    expected = base64.urlsafe_b64encode(hashlib.sha256(body["access_token"].encode()).digest()[:16]).rstrip(b"=")
    assert claims["at_hash"] == expected.decode()


@pytest.mark.rule("RFC 6749 §4.1.2: a code is used once; a second use revokes what the first issued")
async def test_second_redemption_fails_and_revokes_the_first_tokens(world: World) -> None:
    code = await code_for(world, scope="openid offline_access")
    first = await redeem(world, code)
    assert first.status_code == 200
    second = await redeem(world, code)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    refresh = await world.client.post("/oauth/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]},
        headers={"authorization": basic(world.client_id, world.secret)})
    assert refresh.json()["error"] == "invalid_grant"


@pytest.mark.rule("RFC 6749 §4.1.3: redirect_uri must equal the one of the authorization request")
async def test_redirect_uri_mismatch_is_invalid_grant(world: World) -> None:
    code = await code_for(world)
    response = await redeem(world, code, redirect_uri="http://localhost/other")
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.rule("RFC 6749 §5.2: wrong client credentials are invalid_client with 401 and WWW-Authenticate")
async def test_wrong_secret_is_invalid_client(world: World) -> None:
    code = await code_for(world)
    response = await world.client.post("/oauth/v2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        headers={"authorization": basic(world.client_id, "wrong")})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


@pytest.mark.rule("RFC 7636 §4.6: a wrong code_verifier is invalid_grant")
async def test_public_client_pkce(world: World) -> None:
    verifier = generate_secret(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    no_pkce = await authorize(world, client_id=world.public_client_id)
    assert "error=invalid_request" in no_pkce.headers["location"]  # RFC 9700 §2.1.1
    world.client_id, saved = world.public_client_id, world.client_id
    try:
        code = await code_for(world, code_challenge=challenge, code_challenge_method="S256")
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                "client_id": world.public_client_id}
        wrong = await world.client.post("/oauth/v2/token", data={**form, "code_verifier": "x" * 43})
        assert wrong.json()["error"] == "invalid_grant"
        code = await code_for(world, code_challenge=challenge, code_challenge_method="S256")
        right = await world.client.post("/oauth/v2/token", data={**form, "code": code, "code_verifier": verifier})
        assert right.status_code == 200, right.text
        assert right.json()["access_token"].count(".") == 2  # this app's tokens are JWTs
    finally:
        world.client_id = saved


@pytest.mark.rule("RFC 9700 §4.14.2: refresh tokens rotate; reuse revokes the family")
async def test_refresh_rotation_and_reuse(world: World) -> None:
    code = await code_for(world, scope="openid offline_access")
    first = (await redeem(world, code)).json()
    auth = {"authorization": basic(world.client_id, world.secret)}
    rotated = await world.client.post("/oauth/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, headers=auth)
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    reuse = await world.client.post("/oauth/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, headers=auth)
    assert reuse.json()["error"] == "invalid_grant"
    after = await world.client.post("/oauth/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": second["refresh_token"]}, headers=auth)
    assert after.json()["error"] == "invalid_grant"
    narrower = await world.client.post("/oauth/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": second["refresh_token"], "scope": "openid email"},
        headers=auth)
    assert narrower.json()["error"] in ("invalid_grant", "invalid_scope")


@pytest.mark.rule("RFC 6749 §4.1.2.1: before the redirect URI is trusted, errors are a page")
async def test_unknown_client_and_unregistered_redirect_are_pages(world: World) -> None:
    unknown = await authorize(world, client_id="nope@x")
    assert unknown.status_code == 400
    assert unknown.headers["content-type"].startswith("text/html")
    foreign = await authorize(world, redirect_uri="https://evil.example/cb")
    assert foreign.status_code == 400
    assert "location" not in foreign.headers


@pytest.mark.rule("RFC 6749 §4.1.2.1 and RFC 9207: later errors redirect with state and iss")
async def test_unsupported_response_type_redirects_with_state_and_iss(world: World) -> None:
    response = await authorize(world, response_type="token")
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == ["unsupported_response_type"]
    assert query["state"] == ["s1"]
    assert query["iss"] == [world.services.settings.issuer]


@pytest.mark.rule("OIDC Core §3.2.2.5: implicit id_token token comes in the fragment with at_hash")
async def test_implicit_id_token_token_in_fragment(world: World) -> None:
    response = await authorize(world, response_type="id_token token", nonce="n-2", scope="openid email")
    final = await login(world, response.headers["location"])
    fragment = parse_qs(urlsplit(final).fragment)
    assert fragment["token_type"] == ["Bearer"]
    claims = await verify_id_token(world, fragment["id_token"][0])
    assert claims["nonce"] == "n-2"
    assert "at_hash" in claims


@pytest.mark.rule("spec/claims.md §4: response_type id_token puts the requested user claims in the ID token")
async def test_id_token_only_carries_user_claims(world: World) -> None:
    response = await authorize(world, response_type="id_token", nonce="n-3", scope="openid email")
    final = await login(world, response.headers["location"])
    fragment = parse_qs(urlsplit(final).fragment)
    assert "access_token" not in fragment
    claims = await verify_id_token(world, fragment["id_token"][0])
    assert claims["email"] == "road.runner@example.com"


async def test_expired_code_is_invalid_grant(world: World) -> None:
    code = await code_for(world)
    original = world.services.store.clock
    world.services.store.clock = lambda: original() + timedelta(seconds=61)
    try:
        response = await redeem(world, code)
    finally:
        world.services.store.clock = original
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(("form", "error"), [
    ({}, "invalid_request"),
    ({"grant_type": "password"}, "unsupported_grant_type"),
    ({"grant_type": "authorization_code"}, "invalid_request"),
])
async def test_token_request_errors(world: World, form: dict[str, str], error: str) -> None:
    response = await world.client.post("/oauth/v2/token", data=form,
                                       headers={"authorization": basic(world.client_id, world.secret)})
    assert response.status_code == 400
    assert response.json()["error"] == error


async def test_non_form_body_and_bad_basic_header(world: World) -> None:
    as_json = await world.client.post("/oauth/v2/token", json={"grant_type": "authorization_code"})
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"
    garbage = await world.client.post("/oauth/v2/token", data={"grant_type": "authorization_code", "code": "x"},
                                      headers={"authorization": "Basic %%%not-base64"})
    assert garbage.status_code == 401
    assert garbage.json()["error"] == "invalid_client"


@pytest.mark.rule("RFC 6749 §4.1.3 with RFC 3986 §6.2.3: an empty path equals `/`, nothing else is relaxed")
async def test_redirect_uri_trailing_slash_equivalence_only(world: World) -> None:
    code = await code_for(world)
    assert (await redeem(world, code, redirect_uri="http://localhost/")).status_code == 200
    code = await code_for(world)
    assert (await redeem(world, code, redirect_uri="http://localhost:80/")).json()["error"] == "invalid_grant"


@pytest.mark.rule("OAuth 2.0 Form Post Response Mode §2: the answer is an auto-submitting form, escaped")
async def test_form_post_response_mode(world: World) -> None:
    response = await authorize(world, response_mode="form_post", state='"><script>x</script>')
    request_id = response.headers["location"].split("=", 1)[1]
    await link(world, request_id)
    page = await world.client.get(f"/oauth/v2/authorize/callback?id={request_id}")
    assert page.status_code == 200
    assert f'action="{REDIRECT}"' in page.text
    assert 'name="code"' in page.text
    assert "<script>x</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert "script-src 'nonce-" in page.headers["content-security-policy"]
    again = await world.client.get(f"/oauth/v2/authorize/callback?id={request_id}")
    assert again.status_code == 400  # answered once


@pytest.mark.rule("spec/endpoints.md §3: http redirect URIs only in dev mode, for web apps or native loopback")
def test_http_redirect_rules_per_app_type() -> None:
    from bergfried.domain.apps import AppKind, Application
    from bergfried.oidc.authorize import redirect_uri_matches

    def app(app_type: AppType, uris: tuple[str, ...], dev_mode: bool = False) -> Application:
        config = OIDCConfig(redirect_uris=uris, app_type=app_type, dev_mode=dev_mode,
                            auth_method_type=AuthMethodType.NONE)
        return Application(id="1", project_id="2", org_id="3", name="a", kind=AppKind.OIDC, client_id="1@p",
                           oidc=config)

    assert redirect_uri_matches(app(AppType.WEB, ("http://app.example/cb",)), "http://app.example/cb")
    assert not redirect_uri_matches(app(AppType.USER_AGENT, ("http://app.example/cb",)), "http://app.example/cb")
    assert redirect_uri_matches(app(AppType.USER_AGENT, ("http://app.example/cb",), dev_mode=True),
                                "http://app.example/cb")
    assert redirect_uri_matches(app(AppType.NATIVE, ("http://127.0.0.1/cb",)), "http://127.0.0.1:53121/cb")
    assert not redirect_uri_matches(app(AppType.NATIVE, ("http://127.0.0.1/cb",)), "http://127.0.0.1:53121/other")
    assert redirect_uri_matches(app(AppType.USER_AGENT, ("https://*.example/cb",), dev_mode=True),
                                "https://a.example/cb")
    assert not redirect_uri_matches(app(AppType.USER_AGENT, ("https://*.example/cb",)), "https://a.example/cb")
