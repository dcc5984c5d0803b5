"""Token exchange (RFC 8693) through the ASGI app, on both engines, as ZITADEL does it
(spec/token-exchange.md; the `act` rows of spec/claims.md, seed 003)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bergfried.claims import subject as subject_loader
from bergfried.crypto.hashing import generate_secret
from bergfried.domain.apps import Application, AuthMethodType, GrantType, OIDCConfig, TokenType
from bergfried.domain.members import MemberLevel
from bergfried.domain.users import HumanUser
from bergfried.store import app_keys, members
from bergfried.store import instances as instance_store
from bergfried.store.credentials import add_pat
from bergfried.store.projects import get as get_project
from bergfried.store.tokens import Grant
from bergfried.tokens.issue import Issued, TokenRequest, audience, issue
from tests.factories import events_after, latest_sequence, make_machine, make_org, make_user, make_web_app
from tests.oidc.conftest import Resources, basic, bearer, unverified
from tests.oidc.test_private_key_jwt import assertion

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS = "urn:ietf:params:oauth:token-type:access_token"
ID = "urn:ietf:params:oauth:token-type:id_token"
JWT = "urn:ietf:params:oauth:token-type:jwt"
REFRESH = "urn:ietf:params:oauth:token-type:refresh_token"
USER_ID = "urn:zitadel:params:oauth:token-type:user_id"


@dataclass
class Exchange:
    res: Resources
    app: Application  # confidential, Basic, token exchange enabled, app setting: JWT access tokens
    secret: str
    actor: HumanUser  # IAM_END_USER_IMPERSONATOR

    async def post(self, **form: str | list[str]) -> httpx.Response:
        return await self.res.client.post("/oauth/v2/token", data={"grant_type": GRANT, **form},
                                          headers=basic(self.app.client_id, self.secret))

    async def ok(self, **form: str | list[str]) -> dict[str, Any]:
        response = await self.post(**form)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def tokens(self, user: HumanUser, scope: str = "openid profile", *,
                     actor: dict[str, Any] | None = None, amr: tuple[str, ...] = ("pwd",)) -> Issued:
        """Tokens for `user` as a login would leave them (the app's setting: JWT access tokens)."""
        services = self.res.services
        async with services.store.write() as tx:
            subject = await subject_loader.load(tx.conn, user.id, must_be_domain=False)
            assert subject is not None
            grant = Grant(client_id=self.app.client_id, user_id=user.id, scopes=tuple(scope.split()),
                          audience=await audience(tx, self.app), auth_time=tx.now - timedelta(minutes=5), amr=amr,
                          actor=actor)
            return await issue(services, tx, TokenRequest(app=self.app, subject=subject, grant=grant,
                                                          family_id=tx.new_id()))


async def _settings(res: Resources, *, feature: bool = True, impersonation: bool = True) -> None:
    async with res.services.store.write() as tx:
        await instance_store.set_features(tx, oidcTokenExchange=feature)
        await instance_store.set_security_policy(tx, enable_impersonation=impersonation)


@pytest.fixture
async def ex(res: Resources) -> Exchange:
    store = res.services.store
    async with store.write() as tx:
        instance = await instance_store.get(tx.conn)
        if instance is None:
            org_id = res.user.org_id
            instance = await instance_store.create(tx, instance_id=tx.new_id(), name="test", domain="localhost",
                                                   default_org_id=org_id)
        assert instance is not None
        project = await get_project(tx.conn, res.web.project_id)
    secret = generate_secret()
    app = await make_web_app(store, project, "exchanger", OIDCConfig(
        redirect_uris=("https://x.example.com/cb",), auth_method_type=AuthMethodType.BASIC,
        grant_types=(GrantType.AUTHORIZATION_CODE, GrantType.TOKEN_EXCHANGE, GrantType.REFRESH_TOKEN),
        access_token_type=TokenType.JWT,
    ), secret_hash=res.services.hasher.hash(secret))
    org = await make_org(store, "Support")
    actor = await make_user(store, org, "support.agent", password=None)
    async with store.write() as tx:
        await members.add(tx, MemberLevel.INSTANCE, instance.id, actor.id, ["IAM_END_USER_IMPERSONATOR"], org_id=None)
    await _settings(res)
    return Exchange(res, app, secret, actor)


async def _introspect(res: Resources, token: str) -> dict[str, Any]:
    response = await res.client.post("/oauth/v2/introspect", data={"token": token},
                                     headers=basic(res.api.client_id, res.api_secret))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _claims(token: str) -> dict[str, Any]:
    return unverified(token)[1]


# --- plain exchange ---------------------------------------------------------------------------

@pytest.mark.rule("spec/token-exchange.md §4, §5: a plain exchange answers for the subject; the access token is "
                  "always opaque; `issued_token_type`, `scope` and an ID token beside it")
async def test_plain_exchange(ex: Exchange) -> None:
    subject = await ex.tokens(ex.res.user)
    assert subject.access_token
    assert subject.access_token.count(".") == 2
    body = await ex.ok(subject_token=subject.access_token, subject_token_type=ACCESS, scope="openid profile")
    assert body["issued_token_type"] == ACCESS
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid profile"
    assert body["expires_in"] > 0
    assert body["access_token"].count(".") != 2  # opaque, whatever the app's setting
    id_claims = _claims(body["id_token"])
    assert id_claims["sub"] == ex.res.user.id
    assert "act" not in id_claims
    introspected = await _introspect(ex.res, body["access_token"])
    assert introspected["active"] is True
    assert introspected["sub"] == ex.res.user.id
    assert "act" not in introspected


@pytest.mark.rule("spec/token-exchange.md §4: a plain exchange carries the subject token's `act` over unchanged")
async def test_plain_exchange_keeps_act(ex: Exchange) -> None:
    earlier = {"iss": ex.res.services.settings.issuer, "sub": "259241944654282754"}
    subject = await ex.tokens(ex.res.user, actor=earlier)
    assert subject.access_token
    body = await ex.ok(subject_token=subject.access_token, subject_token_type=ACCESS, requested_token_type=JWT)
    assert _claims(body["access_token"])["act"] == earlier
    assert _claims(body["id_token"])["act"] == earlier


@pytest.mark.rule("spec/token-exchange.md §2: empty scope → the subject token's scope; unknown scopes dropped")
async def test_scope_defaults_and_filter(ex: Exchange) -> None:
    subject = await ex.tokens(ex.res.user, "openid email")
    assert subject.access_token
    body = await ex.ok(subject_token=subject.access_token, subject_token_type=ACCESS)
    assert body["scope"] == "openid email"
    body = await ex.ok(subject_token=subject.access_token, subject_token_type=ACCESS, scope="openid made-up")
    assert body["scope"] == "openid"


# --- impersonation: `act` in all three destinations ------------------------------------------

@pytest.mark.rule("seed 003 / spec/claims.md `act` row: after a token exchange with an actor token the ID token, "
                  "the JWT access token and introspection carry act = {iss, sub: actor}; never userinfo")
async def test_act_in_all_three_destinations(ex: Exchange) -> None:
    res = ex.res
    subject = await ex.tokens(res.user)
    actor = await ex.tokens(ex.actor, amr=("pwd", "otp", "mfa"))
    assert subject.access_token
    assert actor.access_token
    expected = {"iss": res.services.settings.issuer, "sub": ex.actor.id}
    before = await latest_sequence(res.services.store)

    jwt_body = await ex.ok(subject_token=subject.access_token, subject_token_type=ACCESS,
                           actor_token=actor.access_token, actor_token_type=ACCESS, requested_token_type=JWT)
    assert jwt_body["issued_token_type"] == JWT
    access = _claims(jwt_body["access_token"])
    assert access["sub"] == res.user.id
    assert access["act"] == expected
    id_claims = _claims(jwt_body["id_token"])
    assert id_claims["sub"] == res.user.id
    assert id_claims["act"] == expected
    assert id_claims["amr"] == ["pwd", "otp", "mfa"]  # auth_time and amr come from the actor token

    opaque = await ex.ok(subject_token=subject.access_token, subject_token_type=ACCESS,
                         actor_token=actor.access_token, actor_token_type=ACCESS)
    introspected = await _introspect(res, opaque["access_token"])
    assert introspected["active"] is True
    assert introspected["sub"] == res.user.id
    assert introspected["act"] == expected
    # the JWT access token introspects with the same act
    assert (await _introspect(res, jwt_body["access_token"]))["act"] == expected

    userinfo = await res.client.get("/oidc/v1/userinfo", headers=bearer(opaque["access_token"]))
    assert userinfo.status_code == 200, userinfo.text
    assert "act" not in userinfo.json()

    impersonated = await events_after(res.services.store, before, aggregate_type="user")
    assert [e for e in impersonated if e.event_type == "user.impersonated"]


@pytest.mark.rule("spec/token-exchange.md §4 `act` shape: an actor token that itself has `act` nests it")
async def test_nested_act(ex: Exchange) -> None:
    issuer = ex.res.services.settings.issuer
    oldest = {"iss": issuer, "sub": "259241944654282754"}
    subject = await ex.tokens(ex.res.user)
    actor = await ex.tokens(ex.actor, actor=oldest)
    assert subject.access_token
    assert actor.access_token
    body = await ex.ok(subject_token=subject.access_token, subject_token_type=ACCESS,
                       actor_token=actor.access_token, actor_token_type=ACCESS, requested_token_type=JWT)
    assert _claims(body["access_token"])["act"] == {"iss": issuer, "sub": ex.actor.id, "act": oldest}


@pytest.mark.rule("spec/token-exchange.md §3, §5: an ID token asked for comes in access_token, token_type N_A, "
                  "without at_hash; ID tokens are accepted as subject and actor")
async def test_requested_id_token(ex: Exchange) -> None:
    subject = await ex.tokens(ex.res.user)
    actor = await ex.tokens(ex.actor)
    assert subject.id_token
    assert actor.id_token
    body = await ex.ok(subject_token=subject.id_token, subject_token_type=ID, actor_token=actor.id_token,
                       actor_token_type=ID, requested_token_type=ID, scope="openid")
    assert body["token_type"] == "N_A"
    assert body["issued_token_type"] == ID
    assert "id_token" not in body
    assert "refresh_token" not in body
    claims = _claims(body["access_token"])
    assert claims["sub"] == ex.res.user.id
    assert claims["act"] == {"iss": ex.res.services.settings.issuer, "sub": ex.actor.id}
    assert "at_hash" not in claims


@pytest.mark.rule("spec/token-exchange.md §3: ZITADEL's user id type names the subject; only with an actor token")
async def test_user_id_subject(ex: Exchange) -> None:
    actor = await ex.tokens(ex.actor)
    assert actor.access_token
    body = await ex.ok(subject_token=ex.res.user.id, subject_token_type=USER_ID, actor_token=actor.access_token,
                       actor_token_type=ACCESS, scope="openid", requested_token_type=JWT)
    assert _claims(body["access_token"])["sub"] == ex.res.user.id
    assert _claims(body["access_token"])["act"]["sub"] == ex.actor.id
    missing = await ex.post(subject_token=ex.res.user.id, subject_token_type=USER_ID, scope="openid")
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    assert missing.json()["error_description"] == "actor_token invalid"
    unknown = await ex.post(subject_token="424242", subject_token_type=USER_ID, actor_token=actor.access_token,
                            actor_token_type=ACCESS)
    assert unknown.json()["error_description"] == "subject_token invalid"


@pytest.mark.rule("spec/token-exchange.md §2: audience values must come from the subject's or actor's audience")
async def test_audience_narrowing(ex: Exchange) -> None:
    subject = await ex.tokens(ex.res.user)
    assert subject.access_token
    body = await ex.ok(subject_token=subject.access_token, subject_token_type=ACCESS, requested_token_type=JWT,
                       audience=[ex.res.api.client_id, ex.app.client_id])
    assert _claims(body["access_token"])["aud"] == [ex.res.api.client_id, ex.app.client_id]
    wrong = await ex.post(subject_token=subject.access_token, subject_token_type=ACCESS,
                          audience=ex.res.foreign_api.client_id)
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_target")
    assert wrong.json()["error_description"] == f"audience {ex.res.foreign_api.client_id!r} not found in subject or " \
                                                "actor token"


# --- rejections -----------------------------------------------------------------------------

def _error(response: httpx.Response, status: int, error: str, description: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.json()["error_description"] == description


@pytest.mark.rule("spec/token-exchange.md §2, §6: the request's fields, with the library's texts")
async def test_request_field_errors(ex: Exchange) -> None:
    subject = await ex.tokens(ex.res.user)
    assert subject.access_token
    token = subject.access_token
    _error(await ex.post(subject_token_type=ACCESS), 400, "invalid_request", "subject_token missing")
    _error(await ex.post(subject_token=token), 400, "invalid_request", "subject_token_type missing")
    _error(await ex.post(subject_token=token, subject_token_type="urn:x"), 400, "invalid_request",
           "subject_token_type is not supported")
    _error(await ex.post(subject_token=token, subject_token_type=ACCESS, actor_token=token, actor_token_type="urn:x"),
           400, "invalid_request", "actor_token_type is not supported")
    _error(await ex.post(subject_token=token, subject_token_type=ACCESS, requested_token_type="urn:x"),
           400, "invalid_request", "requested_token_type is not supported")
    _error(await ex.post(subject_token=token, subject_token_type=ACCESS, resource="https://api.example.com"),
           400, "invalid_target", "resource parameter not supported")
    for requested in (REFRESH, USER_ID):
        _error(await ex.post(subject_token=token, subject_token_type=ACCESS, requested_token_type=requested),
               400, "invalid_request", "Errors.TokenExchange.Token.TypeNotSupported")
    _error(await ex.post(subject_token=token, subject_token_type=REFRESH), 400, "invalid_request",
           "Errors.TokenExchange.Token.TypeNotSupported")


@pytest.mark.rule("spec/token-exchange.md §3, §6: invalid subject and actor tokens; expired ID tokens refused")
async def test_invalid_tokens(ex: Exchange) -> None:
    res = ex.res
    subject = await ex.tokens(res.user)
    actor = await ex.tokens(ex.actor)
    assert subject.access_token
    assert subject.id_token
    assert actor.access_token
    _error(await ex.post(subject_token="not-a-token", subject_token_type=ACCESS), 400, "invalid_request",
           "subject_token invalid")
    _error(await ex.post(subject_token=subject.access_token, subject_token_type=ID), 400, "invalid_request",
           "subject_token invalid")  # a JWT access token is no ID token
    _error(await ex.post(subject_token=subject.access_token, subject_token_type=ACCESS, actor_token="garbage",
                         actor_token_type=ACCESS), 400, "invalid_request", "actor_token invalid")
    _error(await ex.post(subject_token=subject.access_token, subject_token_type=ACCESS, actor_token=res.user.id,
                         actor_token_type=USER_ID), 400, "invalid_request", "Errors.TokenExchange.Token.TypeNotAllowed")
    res.clock.advance(res.services.settings.id_token_lifetime + timedelta(minutes=1))
    _error(await ex.post(subject_token=subject.id_token, subject_token_type=ID), 400, "invalid_request",
           "subject_token invalid")


@pytest.mark.rule("spec/token-exchange.md §1, §6: the instance feature oidcTokenExchange must be on")
async def test_feature_disabled(ex: Exchange) -> None:
    subject = await ex.tokens(ex.res.user)
    assert subject.access_token
    await _settings(ex.res, feature=False)
    _error(await ex.post(subject_token=subject.access_token, subject_token_type=ACCESS), 400, "invalid_request",
           "Errors.TokenExchange.FeatureDisabled")


@pytest.mark.rule("spec/token-exchange.md §1: the app must list the token exchange grant type")
async def test_grant_not_enabled(ex: Exchange) -> None:
    subject = await ex.tokens(ex.res.user)
    assert subject.access_token
    response = await ex.res.client.post("/oauth/v2/token", data={
        "grant_type": GRANT, "subject_token": subject.access_token, "subject_token_type": ACCESS,
    }, headers=basic(ex.res.web.client_id, ex.res.web_secret))
    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")


@pytest.mark.rule("spec/token-exchange.md §4: impersonation needs enableImpersonation (403) and the actor's "
                  "`impersonation` permission in the subject's organization (403)")
async def test_impersonation_refused(ex: Exchange) -> None:
    res = ex.res
    subject = await ex.tokens(res.user)
    actor = await ex.tokens(ex.actor)
    outsider = await make_user(res.services.store, await make_org(res.services.store), password=None)
    stranger = await ex.tokens(outsider)
    assert subject.access_token
    assert actor.access_token
    assert stranger.access_token
    before = await latest_sequence(res.services.store)
    _error(await ex.post(subject_token=subject.access_token, subject_token_type=ACCESS,
                         actor_token=stranger.access_token, actor_token_type=ACCESS),
           403, "invalid_request", "No matching permissions found")
    assert await latest_sequence(res.services.store) == before  # refused: no user.impersonated event, no token
    await _settings(res, impersonation=False)
    _error(await ex.post(subject_token=subject.access_token, subject_token_type=ACCESS,
                         actor_token=actor.access_token, actor_token_type=ACCESS),
           403, "invalid_request", "Errors.TokenExchange.Impersonation.PolicyDisabled")
    _error(await ex.post(subject_token=res.user.id, subject_token_type=USER_ID, actor_token=actor.access_token,
                         actor_token_type=ACCESS), 403, "invalid_request",
           "Errors.TokenExchange.Impersonation.PolicyDisabled")


@pytest.mark.rule("spec/token-exchange.md §3: a JWT signed with one of the requesting app's keys names the subject "
                  "(`aud` the issuer, `iat` at most 1 h old; `iss` need not be `sub`); only with an actor token")
async def test_app_signed_jwt_subject(ex: Exchange) -> None:
    res = ex.res
    store = res.services.store
    async with store.read() as conn:
        project = await get_project(conn, ex.app.project_id)
    app = await make_web_app(store, project, "keyed", OIDCConfig(
        redirect_uris=("https://k.example.com/cb",), auth_method_type=AuthMethodType.PRIVATE_KEY_JWT,
        grant_types=(GrantType.AUTHORIZATION_CODE, GrantType.TOKEN_EXCHANGE)), secret_hash=None)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    async with store.write() as tx:
        key, _ = await app_keys.add(tx, app, public_pem)
    key_file = {"keyId": key.id, "clientId": app.client_id, "key": private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()}
    issuer = res.services.settings.issuer
    actor = await ex.tokens(ex.actor)
    assert actor.access_token

    async def post(subject_token: str, **form: str) -> httpx.Response:
        return await res.client.post("/oauth/v2/token", data={
            "grant_type": GRANT, "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion(key_file, issuer), "subject_token": subject_token,
            "subject_token_type": JWT, "scope": "openid", **form})

    subject_jwt = assertion(key_file, issuer, sub=res.user.id)
    ok = await post(subject_jwt, actor_token=actor.access_token, actor_token_type=ACCESS, requested_token_type=JWT)
    assert ok.status_code == 200, ok.text
    claims = _claims(ok.json()["access_token"])
    assert claims["sub"] == res.user.id
    assert claims["act"] == {"iss": issuer, "sub": ex.actor.id}
    _error(await post(subject_jwt), 400, "invalid_request", "actor_token invalid")
    old = assertion(key_file, issuer, sub=res.user.id, iat=int(time.time()) - 7200)
    _error(await post(old, actor_token=actor.access_token, actor_token_type=ACCESS), 400, "invalid_request",
           "subject_token invalid")
    elsewhere = assertion(key_file, "https://other.example.com", sub=res.user.id)
    _error(await post(elsewhere, actor_token=actor.access_token, actor_token_type=ACCESS), 400, "invalid_request",
           "subject_token invalid")
    _error(await post(subject_jwt, actor_token=subject_jwt, actor_token_type=JWT), 400, "invalid_request",
           "Errors.TokenExchange.Token.TypeNotAllowed")


@pytest.mark.rule("spec/endpoints.md §2: token exchange is not in grant_types_supported, although it is accepted")
async def test_not_in_discovery(ex: Exchange) -> None:
    document = (await ex.res.client.get("/.well-known/openid-configuration")).json()
    assert GRANT not in document["grant_types_supported"]
    assert "refresh_token" in document["grant_types_supported"]


@pytest.mark.rule("spec/token-exchange.md §3: a personal access token is a subject access token; its audience "
                  "gains the requesting client and its project")
async def test_pat_subject(ex: Exchange) -> None:
    store = ex.res.services.store
    machine = await make_machine(store, await make_org(store))
    pat = generate_secret()
    async with store.write() as tx:
        await add_pat(tx, machine, ex.res.services.hasher.hash(pat))
    body = await ex.ok(subject_token=pat, subject_token_type=ACCESS, requested_token_type=JWT,
                       audience=ex.app.project_id)
    claims = _claims(body["access_token"])
    assert claims["sub"] == machine.id
    assert claims["aud"] == [ex.app.project_id]
    assert "act" not in claims


@pytest.mark.rule("spec/token-exchange.md §5: a refresh token when offline_access is in the final scope; "
                  "§3: a revoked subject token is invalid")
async def test_refresh_token_and_revoked_subject(ex: Exchange) -> None:
    subject = await ex.tokens(ex.res.user, "openid offline_access")
    assert subject.access_token
    body = await ex.ok(subject_token=subject.access_token, subject_token_type=ACCESS)
    assert body["scope"] == "openid offline_access"
    assert body["refresh_token"]
    revoked = await ex.res.client.post("/oauth/v2/revoke", data={"token": subject.access_token},
                                       headers=basic(ex.app.client_id, ex.secret))
    assert revoked.status_code == 200, revoked.text
    _error(await ex.post(subject_token=subject.access_token, subject_token_type=ACCESS), 400, "invalid_request",
           "subject_token invalid")
