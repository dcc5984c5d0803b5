"""Token revocation through the ASGI app, on both engines (RFC 7009; spec/endpoints.md §6, §8)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bergfried.tokens.lookup import find_access_token
from tests.conftest import Database
from tests.oidc.conftest import Resources, access_token, basic, bearer, issue_tokens, other_process

REVOKE = "/oauth/v2/revoke"
USERINFO = "/oidc/v1/userinfo"


async def revoke(res: Resources, token: str, headers: dict[str, str] | None = None, **form: str) -> httpx.Response:
    return await res.client.post(REVOKE, data={"token": token, **form},
                                 headers=basic(res.web.client_id, res.web_secret) if headers is None else headers)


def assert_revoked_ok(response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


async def userinfo_status(res: Resources, token: str) -> int:
    return (await res.client.get(USERINFO, headers=bearer(token))).status_code


async def refresh(res: Resources, refresh_token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return await res.client.post("/oauth/v2/token", data=form, headers=basic(res.web.client_id, res.web_secret))


@pytest.mark.rule("RFC 7009 §2.1: a revoked access token stops working at once; its refresh token lives on")
async def test_access_token_revocation(res: Resources) -> None:
    issued = await issue_tokens(res, res.web, "openid offline_access")
    assert issued.access_token is not None
    assert issued.refresh_token is not None
    assert await userinfo_status(res, issued.access_token) == 200
    assert_revoked_ok(await revoke(res, issued.access_token))
    assert await userinfo_status(res, issued.access_token) == 401
    refreshed = await refresh(res, issued.refresh_token)
    assert refreshed.status_code == 200, refreshed.text
    assert await userinfo_status(res, refreshed.json()["access_token"]) == 200


@pytest.mark.rule("RFC 7009 §2.1: revoking a refresh token also revokes the access tokens of its grant")
async def test_refresh_token_revocation_takes_the_family(res: Resources) -> None:
    issued = await issue_tokens(res, res.web, "openid offline_access")
    assert issued.access_token is not None
    assert issued.refresh_token is not None
    assert_revoked_ok(await revoke(res, issued.refresh_token, token_type_hint="refresh_token"))
    assert await userinfo_status(res, issued.access_token) == 401
    refused = await refresh(res, issued.refresh_token)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


@pytest.mark.rule("RFC 7009 §2.1: a wrong token_type_hint still finds the token")
@pytest.mark.parametrize("hint", ["refresh_token", "access_token", "something_else"])
async def test_hint_only_orders_the_search(res: Resources, hint: str) -> None:
    issued = await issue_tokens(res, res.web, "openid offline_access")
    assert issued.access_token is not None
    assert issued.refresh_token is not None
    assert_revoked_ok(await revoke(res, issued.access_token, token_type_hint=hint))
    assert await userinfo_status(res, issued.access_token) == 401
    assert (await refresh(res, issued.refresh_token)).status_code == 200


@pytest.mark.rule("spec/endpoints.md §8: a revoked JWT access token is refused though its signature holds")
async def test_jwt_access_token_revocation(res: Resources) -> None:
    token = await access_token(res, res.jwt_app)
    assert_revoked_ok(await revoke(res, token, basic(res.jwt_app.client_id, res.jwt_secret)))
    assert await userinfo_status(res, token) == 401


@pytest.mark.rule("RFC 7009 §2.1: revocation is seen by every process sharing the database at once")
@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
async def test_another_process_sees_the_revocation(res: Resources, database: Database, tmp_path: Path,
                                                   kind: str) -> None:
    other, engine = await other_process(database, tmp_path)
    try:
        issued = await issue_tokens(res, res.web, "openid offline_access")
        assert issued.access_token is not None
        assert issued.refresh_token is not None
        async with other.store.read() as conn:
            assert await find_access_token(other, conn, issued.access_token) is not None
        presented = issued.access_token if kind == "access_token" else issued.refresh_token
        assert_revoked_ok(await revoke(res, presented))
        async with other.store.read() as conn:
            assert await find_access_token(other, conn, issued.access_token) is None
    finally:
        await engine.dispose()


@pytest.mark.rule("RFC 7009 §5: a public client revokes its own token with its client_id")
async def test_public_client_revokes_with_client_id(res: Resources) -> None:
    token = await access_token(res, res.public)
    assert_revoked_ok(await revoke(res, token, {}, client_id=res.public.client_id))
    assert await userinfo_status(res, token) == 401


@pytest.mark.rule("spec/endpoints.md §6: a token of another client is invalid_client 401")
@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
async def test_token_of_another_client(res: Resources, kind: str) -> None:
    issued = await issue_tokens(res, res.web, "openid offline_access")
    assert issued.access_token is not None
    assert issued.refresh_token is not None
    token = issued.access_token if kind == "access_token" else issued.refresh_token
    response = await revoke(res, token, basic(res.jwt_app.client_id, res.jwt_secret))
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": "token was not issued for this client"}
    assert await userinfo_status(res, issued.access_token) == 200


@pytest.mark.rule("RFC 7009 §2.2: unknown, malformed or already revoked tokens are a success")
@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 20000, "not a token", "é"])
async def test_unknown_tokens_succeed(res: Resources, token: str) -> None:
    assert_revoked_ok(await revoke(res, token))


@pytest.mark.rule("RFC 7009 §2.2: revoking twice succeeds twice")
async def test_revoking_twice(res: Resources) -> None:
    token = await access_token(res, res.web)
    assert_revoked_ok(await revoke(res, token))
    assert_revoked_ok(await revoke(res, token))


@pytest.mark.rule("RFC 7009 §2.1: the client authenticates first; a wrong secret is invalid_client")
async def test_wrong_secret(res: Resources) -> None:
    token = await access_token(res, res.web)
    response = await revoke(res, token, basic(res.web.client_id, "wrong"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")
    assert await userinfo_status(res, token) == 200


@pytest.mark.rule("RFC 7009 §2.1: a confidential client must authenticate; client_id alone is not enough")
async def test_confidential_client_without_secret(res: Resources) -> None:
    token = await access_token(res, res.web)
    response = await revoke(res, token, {}, client_id=res.web.client_id)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert await userinfo_status(res, token) == 200


@pytest.mark.rule("spec/endpoints.md §6: a missing token is invalid_request 400")
async def test_missing_token(res: Resources) -> None:
    response = await res.client.post(REVOKE, data={"token_type_hint": "access_token"},
                                     headers=basic(res.web.client_id, res.web_secret))
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": "token missing"}


@pytest.mark.rule("RFC 7009 §2.1: revocation is POST only")
async def test_get_is_not_allowed(res: Resources) -> None:
    assert (await res.client.get(REVOKE, params={"token": "x"})).status_code == 405
