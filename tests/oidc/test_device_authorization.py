"""The device authorization grant (RFC 8628; spec/other-grants.md §5) through real HTTP: the
device authorization endpoint, every polling answer of the token endpoint, single use of the
device code and the race of two concurrent polls on both databases. The user's decision is made
through the store here; the hosted login's user-code page is tested in tests/browser/ and
tests/login/."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from bergfried.domain.apps import Application, AppType, AuthMethodType, GrantType, OIDCConfig
from bergfried.store import device_authorizations as device_store
from bergfried.store import projects as project_store
from bergfried.store import tables as t
from bergfried.web.app import create_app
from tests.conftest import Database
from tests.factories import make_web_app
from tests.oidc.conftest import Resources, other_process, unverified
from tests.web.conftest import serving

DEVICE = "/oauth/v2/device_authorization"
TOKEN = "/oauth/v2/token"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


async def device_app(res: Resources, name: str = "tv", *,
                     grant_types: tuple[GrantType, ...] = (GrantType.DEVICE_CODE, GrantType.REFRESH_TOKEN)
                     ) -> Application:
    async with res.services.store.read() as conn:
        project = await project_store.find(conn, res.web.project_id)
    assert project is not None
    return await make_web_app(res.services.store, project, name, OIDCConfig(
        redirect_uris=("http://localhost/cb",), app_type=AppType.NATIVE, auth_method_type=AuthMethodType.NONE,
        grant_types=grant_types,
    ), secret_hash=None)


async def start(res: Resources, app: Application, scope: str = "openid offline_access") -> dict[str, Any]:
    response = await res.client.post(DEVICE, data={"client_id": app.client_id, "scope": scope})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def poll(client: httpx.AsyncClient, app: Application, device_code: str) -> httpx.Response:
    return await client.post(TOKEN, data={"grant_type": DEVICE_GRANT, "device_code": device_code,
                                          "client_id": app.client_id})


def assert_error(response: httpx.Response, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


async def decide(res: Resources, user_code: str, *, approve: bool) -> None:
    async with res.services.store.write() as tx:
        assert await device_store.decide(tx, user_code, approve=approve, user_id=res.user.id, auth_time=tx.now,
                                         amr=("pwd",))


@pytest.fixture
async def tv(res: Resources) -> Application:
    return await device_app(res)


@pytest.mark.rule("RFC 8628 §3.2; spec/other-grants.md §5 values: the device authorization response")
async def test_device_authorization_response(res: Resources, tv: Application) -> None:
    response = await res.client.post(DEVICE, data={"client_id": tv.client_id, "scope": "openid offline_access"})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"device_code", "user_code", "verification_uri", "verification_uri_complete",
                         "expires_in", "interval"}
    assert USER_CODE.match(body["user_code"])
    issuer = res.services.settings.issuer
    assert body["verification_uri"] == f"{issuer}/device"
    assert body["verification_uri_complete"] == f"{issuer}/device?user_code={body['user_code']}"
    assert (body["expires_in"], body["interval"]) == (300, 5)
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,}", body["device_code"])
    async with res.services.store.read() as conn:  # kept only as a keyed hash
        hashes = (await conn.execute(sa.select(t.device_authorizations.c.device_code_hash))).scalars().all()
    assert hashes == [res.services.hasher.hash(body["device_code"])]
    assert body["device_code"] not in hashes


@pytest.mark.rule("spec/endpoints.md §1: verification_uri /device leads to the hosted login's user-code page")
async def test_verification_uri_leads_to_the_user_code_page(res: Resources) -> None:
    response = await res.client.get("/device", params={"user_code": "GQWC-FWFK"})
    assert response.status_code == 302
    assert response.headers["location"] == "/ui/login/device?user_code=GQWC-FWFK"


@pytest.mark.rule("spec/endpoints.md §2: discovery names the device authorization endpoint and grant type")
async def test_discovery_names_the_device_endpoint(res: Resources) -> None:
    body = (await res.client.get("/.well-known/openid-configuration")).json()
    assert body["device_authorization_endpoint"].endswith(DEVICE)
    assert DEVICE_GRANT in body["grant_types_supported"]


@pytest.mark.rule("spec/other-grants.md §5 app setup: only apps with OIDC_GRANT_TYPE_DEVICE_CODE")
async def test_app_without_the_device_grant_is_unauthorized(res: Resources) -> None:
    plain = await device_app(res, "plain", grant_types=(GrantType.AUTHORIZATION_CODE,))
    assert_error(await res.client.post(DEVICE, data={"client_id": plain.client_id, "scope": "openid"}),
                 "unauthorized_client")
    assert_error(await poll(res.client, plain, "whatever"), "unauthorized_client")


@pytest.mark.rule("RFC 8628 §3.1 / RFC 6749 §2.3: an unknown client is invalid_client")
async def test_unknown_client(res: Resources) -> None:
    assert_error(await res.client.post(DEVICE, data={"client_id": "nobody", "scope": "openid"}),
                 "invalid_client", 401)


@pytest.mark.rule("zitadel/oidc ValidateAuthReqScopes: no scope is invalid_request")
async def test_missing_scope(res: Resources, tv: Application) -> None:
    assert_error(await res.client.post(DEVICE, data={"client_id": tv.client_id}), "invalid_request")


@pytest.mark.rule("spec/other-grants.md §5 poll: missing device_code → invalid_request 'device_code missing'")
async def test_missing_device_code(res: Resources, tv: Application) -> None:
    response = await res.client.post(TOKEN, data={"grant_type": DEVICE_GRANT, "client_id": tv.client_id})
    assert_error(response, "invalid_request")
    assert response.json()["error_description"] == "device_code missing"


@pytest.mark.rule("RFC 8628 §3.5: an unknown device code or one of another client is invalid_grant")
async def test_unknown_or_foreign_device_code(res: Resources, tv: Application) -> None:
    other = await device_app(res, "radio")
    started = await start(res, tv)
    assert_error(await poll(res.client, tv, "not-a-device-code"), "invalid_grant")
    assert_error(await poll(res.client, other, started["device_code"]), "invalid_grant")


@pytest.mark.rule("RFC 8628 §3.5: authorization_pending, then slow_down when polling faster than the interval, "
                  "which then grows by 5 seconds")
async def test_pending_and_slow_down(res: Resources, tv: Application) -> None:
    started = await start(res, tv)
    assert_error(await poll(res.client, tv, started["device_code"]), "authorization_pending")
    assert_error(await poll(res.client, tv, started["device_code"]), "slow_down")  # at once: too fast
    res.clock.advance(timedelta(seconds=6))  # past 5 s, but the interval is now 10 s
    assert_error(await poll(res.client, tv, started["device_code"]), "slow_down")
    res.clock.advance(timedelta(seconds=16))  # the interval is 15 s now
    assert_error(await poll(res.client, tv, started["device_code"]), "authorization_pending")


@pytest.mark.rule("RFC 8628 §3.5: the user denied → access_denied")
async def test_denied(res: Resources, tv: Application) -> None:
    started = await start(res, tv)
    await decide(res, started["user_code"], approve=False)
    assert_error(await poll(res.client, tv, started["device_code"]), "access_denied")


@pytest.mark.rule("RFC 8628 §3.5: past expires_in → expired_token")
async def test_expired(res: Resources, tv: Application) -> None:
    started = await start(res, tv)
    await decide(res, started["user_code"], approve=True)
    res.clock.advance(timedelta(seconds=301))
    assert_error(await poll(res.client, tv, started["device_code"]), "expired_token")


@pytest.mark.rule("RFC 8628 §3.5: an expired authorization can no longer be approved")
async def test_expired_cannot_be_approved(res: Resources, tv: Application) -> None:
    started = await start(res, tv)
    res.clock.advance(timedelta(seconds=301))
    async with res.services.store.write() as tx:
        assert not await device_store.decide(tx, started["user_code"], approve=True, user_id=res.user.id)


@pytest.mark.rule("RFC 8628 §3.5 / spec/other-grants.md §5 success: tokens once, then the code is used up")
async def test_approved_gives_tokens_once(res: Resources, tv: Application) -> None:
    started = await start(res, tv)
    await decide(res, started["user_code"], approve=True)
    response = await poll(res.client, tv, started["device_code"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["access_token"]
    assert body["refresh_token"]
    _, claims = unverified(body["id_token"])
    assert (claims["sub"], claims["aud"][0] if isinstance(claims["aud"], list) else claims["aud"]) == (
        res.user.id, tv.client_id)
    assert claims["amr"] == ["pwd"]
    userinfo = await res.client.get("/oidc/v1/userinfo", headers={"authorization": f"Bearer {body['access_token']}"})
    assert userinfo.status_code == 200
    assert userinfo.json()["sub"] == res.user.id
    res.clock.advance(timedelta(seconds=6))
    assert_error(await poll(res.client, tv, started["device_code"]), "invalid_grant")


@pytest.mark.rule("issue 7 §6 / RFC 8628 §3.5: two concurrent polls of one approved device code → exactly one "
                  "success")
async def test_two_concurrent_polls_one_success(res: Resources, tv: Application, database: Database,
                                                tmp_path: Path) -> None:
    other, engine = await other_process(database, tmp_path)
    try:
        started = await start(res, tv)
        await decide(res, started["user_code"], approve=True)
        async with serving(create_app(other.settings, prebuilt=other)) as other_client:
            responses = await asyncio.gather(poll(res.client, tv, started["device_code"]),
                                             poll(other_client, tv, started["device_code"]))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200, 400], [r.text for r in responses]
        loser = next(r for r in responses if r.status_code == 400)
        assert loser.json()["error"] in ("slow_down", "invalid_grant")
        async with res.services.store.read() as conn:
            issued = (await conn.execute(sa.select(sa.func.count()).select_from(t.access_tokens)
                                         .where(t.access_tokens.c.client_id == tv.client_id))).scalar_one()
        assert issued == 1
    finally:
        await engine.dispose()


@pytest.mark.rule("issue 7 §6: two concurrent consumptions of one approved device code → exactly one wins")
async def test_concurrent_consumption_in_the_store(res: Resources, tv: Application, database: Database,
                                                   tmp_path: Path) -> None:
    other, engine = await other_process(database, tmp_path)
    try:
        started = await start(res, tv)
        await decide(res, started["user_code"], approve=True)
        code_hash = res.services.hasher.hash(started["device_code"])

        async def consume(services: Any) -> bool:
            async with services.store.write() as tx:
                won: bool = await device_store.consume(tx, code_hash)
                await asyncio.sleep(0.05)  # hold the transaction open while the other one tries
                return won

        results = await asyncio.gather(consume(res.services), consume(other))
        assert sorted(results) == [False, True]
    finally:
        await engine.dispose()


@pytest.mark.rule("RFC 8628 §3.4–3.5 with a real client library (Authlib): pending as an OAuth error, then tokens")
async def test_device_flow_with_authlib(res: Resources, tv: Application) -> None:
    async with AsyncOAuth2Client(tv.client_id, token_endpoint_auth_method="none", transport=res.client._transport,
                                 base_url="http://testserver") as client:
        started = await start(res, tv, "openid")  # Authlib has no helper for this request
        with pytest.raises(OAuthError) as pending:
            await client.fetch_token(TOKEN, grant_type=DEVICE_GRANT, device_code=started["device_code"])
        assert pending.value.error == "authorization_pending"
        await decide(res, started["user_code"], approve=True)
        res.clock.advance(timedelta(seconds=started["interval"]))
        token = await client.fetch_token(TOKEN, grant_type=DEVICE_GRANT, device_code=started["device_code"])
    assert token["token_type"] == "Bearer"
    assert unverified(token["id_token"])[1]["sub"] == res.user.id
