"""OIDC service v2 (spec/api-v2.md §4): GetAuthRequest and CreateCallback."""

from __future__ import annotations

import pytest

from bergfried.crypto.hashing import generate_secret
from bergfried.store import credentials, projects
from tests.api_v2.conftest import V2, error_of, query_of
from tests.factories import make_machine


@pytest.mark.rule("spec/api-v2.md §4: AuthRequest fields (scope, prompt as PROMPT_*, loginHint, maxAge, uiLocales)")
async def test_get_auth_request_shows_what_the_application_asked_for(v2: V2) -> None:
    location = await v2.authorize(v2.app_v2, prompt="login", login_hint="mini@mouse.com", max_age="3600",
                                  ui_locales="de en")
    request_id = query_of(location)["authRequest"]
    got = await v2.call("GET", f"/v2/oidc/auth_requests/{request_id}", v2.login_pat)
    assert got.status_code == 200, got.text
    request = got.json()["authRequest"]
    assert request["id"] == request_id
    assert request["clientId"] == v2.app_v2.client_id
    assert request["scope"] == ["openid", "profile"]
    assert request["redirectUri"] == "https://app.example.com/cb"
    assert request["prompt"] == ["PROMPT_LOGIN"]
    assert request["uiLocales"] == ["de", "en"]
    assert request["loginHint"] == "mini@mouse.com"
    assert request["maxAge"] == "3600s"
    assert "creationDate" in request


@pytest.mark.rule("spec/api-v2.md §4: the recorded login client needs no session.read / session.link")
async def test_the_login_client_named_at_authorize_may_answer_without_permissions(v2: V2) -> None:
    w = v2.w
    bare = await make_machine(w.services.store, w.acme, "bare-login")  # no membership at all
    pat = generate_secret()
    async with w.services.store.write() as tx:
        await credentials.add_pat(tx, bare, w.services.hasher.hash(pat))
    response = await w.client.get("/oauth/v2/authorize", params={
        "client_id": v2.app.client_id, "redirect_uri": "https://app.example.com/cb", "response_type": "code",
        "scope": "openid"}, headers={"x-zitadel-login-client": bare.id})
    request_id = query_of(response.headers["location"])["authRequest"]
    assert (await v2.call("GET", f"/v2/oidc/auth_requests/{request_id}", pat)).status_code == 200
    session_id, token = await v2.session()
    callback = await v2.call("POST", f"/v2/oidc/auth_requests/{request_id}", pat,
                             json={"session": {"sessionId": session_id, "sessionToken": token}})
    assert callback.status_code == 200, callback.text
    # a request without a login client needs the permission: the bare caller has no membership
    other = query_of(await v2.authorize(v2.app_v2))["authRequest"]
    assert error_of(await v2.call("GET", f"/v2/oidc/auth_requests/{other}", pat))[:2] == (404, 5)


async def test_get_auth_request_errors(v2: V2) -> None:
    request_id = query_of(await v2.authorize(v2.app_v2))["authRequest"]
    path = f"/v2/oidc/auth_requests/{request_id}"
    assert error_of(await v2.call("GET", path, None))[:2] == (401, 16)
    assert error_of(await v2.call("GET", path, v2.w.weak))[:2] == (403, 7)
    unknown = await v2.call("GET", "/v2/oidc/auth_requests/V2_123", v2.login_pat)
    assert error_of(unknown) == (404, 5, "AuthRequest does not exist (QUERY-Sfwjr)")
    hosted = query_of(await v2.authorize(v2.app))["authRequestID"]  # a login v1 request is not one of these
    assert error_of(await v2.call("GET", f"/v2/oidc/auth_requests/{hosted}", v2.login_pat))[:2] == (404, 5)


async def test_create_callback_errors(v2: V2) -> None:
    request_id = query_of(await v2.authorize(v2.app_v2))["authRequest"]
    path = f"/v2/oidc/auth_requests/{request_id}"
    session_id, token = await v2.session()
    good = {"session": {"sessionId": session_id, "sessionToken": token}}
    assert error_of(await v2.call("POST", path, v2.login_pat, json={}))[:2] == (400, 3)
    assert error_of(await v2.call("POST", path, None, json=good))[:2] == (401, 16)
    assert error_of(await v2.call("POST", path, v2.w.owner, json=good))[:2] == (403, 7)  # no session.link
    assert error_of(await v2.call("POST", "/v2/oidc/auth_requests/V2_1", v2.login_pat, json=good))[:2] == (404, 5)
    wrong = {"session": {"sessionId": session_id, "sessionToken": "not-the-token"}}
    assert error_of(await v2.call("POST", path, v2.login_pat, json=wrong))[:2] == (403, 7)
    assert (await v2.call("POST", path, v2.login_pat, json=good)).status_code == 200  # still open after failures
    again = await v2.call("POST", path, v2.login_pat, json=good)
    assert error_of(again) == (400, 9, "Auth Request has already been handled (COMMAND-Sx208nt)")


@pytest.mark.rule("spec/roles-and-permissions.md §4: v2 CreateCallback → PERMISSION_DENIED Errors.User.GrantRequired")
async def test_project_role_check_refuses_the_callback_and_leaves_the_request_open(v2: V2) -> None:
    store = v2.w.services.store
    async with store.write() as tx:
        project = await projects.get(tx.conn, v2.app_v2.project_id)
        await projects.update(tx, project, project_role_check=True)
    request_id = query_of(await v2.authorize(v2.app_v2))["authRequest"]
    session_id, token = await v2.session()
    refused = await v2.call("POST", f"/v2/oidc/auth_requests/{request_id}", v2.login_pat,
                            json={"session": {"sessionId": session_id, "sessionToken": token}})
    status, code, message = error_of(refused)
    assert (status, code) == (403, 7)
    assert message.startswith("Login not possible. The user is required to have at least one grant")
    assert (await v2.call("GET", f"/v2/oidc/auth_requests/{request_id}", v2.login_pat)).status_code == 200


@pytest.mark.rule("spec/api-v2.md §3: a session token stops verifying once the session is deleted")
async def test_a_deleted_session_cannot_answer_a_request(v2: V2) -> None:
    request_id = query_of(await v2.authorize(v2.app_v2))["authRequest"]
    session_id, token = await v2.session()
    assert (await v2.call("DELETE", f"/v2/sessions/{session_id}", v2.login_pat, json={})).status_code == 200
    refused = await v2.call("POST", f"/v2/oidc/auth_requests/{request_id}", v2.login_pat,
                            json={"session": {"sessionId": session_id, "sessionToken": token}})
    assert error_of(refused)[:2] == (403, 7)
