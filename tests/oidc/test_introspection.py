"""Token introspection through the ASGI app, on both engines (RFC 7662; spec/endpoints.md §6, §9)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from bergfried.domain.apps import ApiAuthMethodType
from bergfried.store import apps, users
from bergfried.store import sessions as session_store
from bergfried.store import tokens as token_store
from bergfried.store.projects import get as get_project
from bergfried.tokens.lookup import find_access_token
from tests.oidc.conftest import (
    METADATA_SCOPE,
    Resources,
    access_token,
    basic,
    issue_tokens,
    new_session,
    resigned,
    unsigned,
)

INTROSPECT = "/oauth/v2/introspect"


async def introspect(res: Resources, token: str, headers: dict[str, str] | None = None,
                     **form: str) -> httpx.Response:
    return await res.client.post(INTROSPECT, data={"token": token, **form},
                                 headers=basic(res.api.client_id, res.api_secret) if headers is None else headers)


async def introspected(res: Resources, token: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await introspect(res, token, headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.rule("RFC 7662 §2.2: an active token answers with its metadata")
@pytest.mark.parametrize("kind", ["opaque", "jwt"])
async def test_active_token_members(res: Resources, kind: str) -> None:
    app = res.web if kind == "opaque" else res.jwt_app
    session_id = await new_session(res)
    token = await access_token(res, app, f"openid profile email {METADATA_SCOPE}", session_id=session_id)
    body = await introspected(res, token)
    assert body["active"] is True
    assert body["scope"] == f"openid profile email {METADATA_SCOPE}"
    assert body["client_id"] == app.client_id
    assert body["token_type"] == "Bearer"
    assert body["iss"] == res.services.settings.issuer
    assert body["sub"] == res.user.id
    assert body["aud"][0] == app.client_id
    assert res.api.client_id in body["aud"]
    assert body["aud"][-1] == app.project_id
    assert body["amr"] == ["pwd"]
    assert isinstance(body["jti"], str)
    assert all(isinstance(body[name], int) for name in ("exp", "iat", "nbf", "auth_time"))
    assert body["nbf"] == body["iat"]
    assert body["exp"] - body["iat"] == int(res.services.settings.access_token_lifetime.total_seconds())
    assert body["username"] == body["preferred_username"]
    assert body["username"].startswith("road.runner")
    assert body["email"] == "road.runner@example.com"
    assert body[METADATA_SCOPE] == {"contract": "MTIzNA"}


@pytest.mark.rule("spec/claims.md §2: introspection user claims follow the token's scopes")
async def test_claims_follow_scopes(res: Resources) -> None:
    body = await introspected(res, await access_token(res, res.web, "openid"))
    assert body["active"] is True
    assert "email" not in body
    assert "name" not in body
    assert "username" not in body
    assert METADATA_SCOPE not in body


@pytest.mark.rule("spec/endpoints.md §9: the caller's own client id in the audience suffices")
async def test_the_client_itself_may_introspect(res: Resources) -> None:
    token = await access_token(res, res.web)
    body = await introspected(res, token, basic(res.web.client_id, res.web_secret))
    assert body["active"] is True


@pytest.mark.rule("spec/endpoints.md §9: the caller's project id in the audience suffices")
async def test_api_app_added_later_is_in_audience_by_its_project(res: Resources) -> None:
    token = await access_token(res, res.web)
    async with res.services.store.write() as tx:
        project = await get_project(tx.conn, res.web.project_id)
        late, _ = await apps.add_api(tx, project, "late", ApiAuthMethodType.BASIC,
                                     secret_hash=res.services.hasher.hash("late-secret"))
    body = await introspected(res, token, basic(late.client_id, "late-secret"))
    assert body["active"] is True
    assert late.client_id not in body["aud"]


@pytest.mark.rule("spec/endpoints.md §9: a caller outside the audience sees active:false")
async def test_foreign_caller_sees_inactive(res: Resources) -> None:
    token = await access_token(res, res.web, "openid profile")
    body = await introspected(res, token, basic(res.foreign_api.client_id, res.foreign_secret))
    assert body == {"active": False}


@pytest.mark.rule("RFC 7662 §2.2: unknown tokens are inactive, nothing else is said")
@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 20000, "not a token at all"])
async def test_garbage_is_inactive(res: Resources, token: str) -> None:
    assert await introspected(res, token) == {"active": False}


@pytest.mark.rule("RFC 8725 §2.1: forged JWTs are inactive")
async def test_forged_jwts_are_inactive(res: Resources) -> None:
    token = await access_token(res, res.jwt_app)
    assert (await introspected(res, token))["active"] is True
    assert await introspected(res, unsigned(token)) == {"active": False}
    assert await introspected(res, resigned(token)) == {"active": False}


@pytest.mark.rule("RFC 7662 §2.2: an expired token is inactive")
async def test_expired_token_is_inactive(res: Resources) -> None:
    token = await access_token(res, res.web)
    res.clock.advance(res.services.settings.access_token_lifetime + timedelta(seconds=1))
    assert await introspected(res, token) == {"active": False}


@pytest.mark.rule("RFC 7662 §2.2: a revoked token is inactive")
async def test_revoked_token_is_inactive(res: Resources) -> None:
    token = await access_token(res, res.jwt_app)
    async with res.services.store.write() as tx:
        record = await find_access_token(res.services, tx.conn, token)
        assert record is not None
        await token_store.revoke_access_token(tx, record.id)
    assert await introspected(res, token) == {"active": False}


@pytest.mark.rule("spec/endpoints.md §8: a token of an ended session is inactive")
async def test_token_of_ended_session_is_inactive(res: Resources) -> None:
    session_id = await new_session(res)
    token = await access_token(res, res.web, session_id=session_id)
    async with res.services.store.write() as tx:
        await session_store.terminate(tx, session_id)
    assert await introspected(res, token) == {"active": False}


@pytest.mark.rule("RFC 7662 §2.2: a token of a deactivated user is inactive")
async def test_token_of_deactivated_user_is_inactive(res: Resources) -> None:
    token = await access_token(res, res.web)
    async with res.services.store.write() as tx:
        await users.change_state(tx, res.user, "deactivate")
    assert await introspected(res, token) == {"active": False}


@pytest.mark.rule("RFC 7662 §2.1: introspection is for access tokens; a refresh token is inactive")
async def test_refresh_token_is_inactive(res: Resources) -> None:
    issued = await issue_tokens(res, res.web, "openid offline_access")
    assert issued.refresh_token is not None
    assert await introspected(res, issued.refresh_token) == {"active": False}


@pytest.mark.rule("spec/endpoints.md §6: no credentials is invalid_client 400")
async def test_missing_credentials(res: Resources) -> None:
    response = await introspect(res, await access_token(res, res.web), headers={})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client", "error_description": "client must be authenticated"}
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.rule("spec/endpoints.md §6: a missing token is invalid_request 400")
@pytest.mark.parametrize("form", [{"token": ""}, {"token_type_hint": "access_token"}])
async def test_missing_token(res: Resources, form: dict[str, str]) -> None:
    response = await res.client.post(INTROSPECT, data=form, headers=basic(res.api.client_id, res.api_secret))
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_request", "error_description": "token missing"}


@pytest.mark.rule("spec/endpoints.md §6: failed client authentication is unauthorized_client 400")
@pytest.mark.parametrize("case", ["wrong secret", "unknown client", "public client", "secret in form",
                                  "broken basic"])
async def test_client_authentication_failures(res: Resources, case: str) -> None:
    token = await access_token(res, res.web)
    headers: dict[str, str] = {}
    form: dict[str, str] = {}
    if case == "wrong secret":
        headers = basic(res.api.client_id, "wrong")
    elif case == "unknown client":
        headers = basic("123@nowhere", res.api_secret)
    elif case == "public client":
        form = {"client_id": res.public.client_id}
    elif case == "secret in form":  # still checked: a wrong one fails
        form = {"client_id": res.api.client_id, "client_secret": "wrong"}
    else:
        headers = {"authorization": "Basic !!!"}
    response = await introspect(res, token, headers, **form)
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert "www-authenticate" not in response.headers


@pytest.mark.rule("RFC 6749 §2.3.1: client_secret_post authenticates at introspection too")
async def test_secret_in_form_authenticates(res: Resources) -> None:
    token = await access_token(res, res.web)
    response = await introspect(res, token, {}, client_id=res.api.client_id, client_secret=res.api_secret)
    assert response.status_code == 200
    assert response.json()["active"] is True


@pytest.mark.rule("RFC 7662 §2.1: introspection is POST only")
async def test_get_is_not_allowed(res: Resources) -> None:
    response = await res.client.get(INTROSPECT, params={"token": "x"})
    assert response.status_code == 405


@pytest.mark.rule("web/forms.py: a body that is not a form is invalid_request")
async def test_json_body_is_invalid_request(res: Resources) -> None:
    response = await res.client.post(INTROSPECT, json={"token": "x"}, headers=basic(res.api.client_id,
                                                                                     res.api_secret))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
