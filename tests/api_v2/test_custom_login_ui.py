"""A custom login UI end to end, with plain HTTP through the ASGI app (spec/api-v2.md §5): authorize
→ the UI's URL with `authRequest=V2_…` → GetAuthRequest → CreateSession with user and password
checks → CreateCallback → the client's redirect URI with a code → token → ID token with the
session's `sid` and `amr` → userinfo."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bergfried.domain.apps import Application, AppType, AuthMethodType, GrantType, OIDCConfig, ResponseType
from bergfried.store import projects
from tests.api_v2.conftest import LOGIN_UI, V2, claims_of, error_of, query_of
from tests.factories import make_web_app


async def _login_through_ui(v2: V2, location: str) -> tuple[str, str]:
    """What the UI does with `authRequest`: read it, authenticate, create the callback. Returns
    the session id and the callback URL."""
    request_id = query_of(location)["authRequest"]
    got = await v2.call("GET", f"/v2/oidc/auth_requests/{request_id}", v2.login_pat)
    assert got.status_code == 200, got.text
    assert got.json()["authRequest"]["redirectUri"] == "https://app.example.com/cb"
    session_id, token = await v2.session()
    callback = await v2.call("POST", f"/v2/oidc/auth_requests/{request_id}", v2.login_pat,
                             json={"session": {"sessionId": session_id, "sessionToken": token}})
    assert callback.status_code == 200, callback.text
    return session_id, callback.json()["callbackUrl"]


async def _redeem(v2: V2, app: Application, callback_url: str, session_id: str) -> None:
    assert callback_url.startswith("https://app.example.com/cb?")
    answer = query_of(callback_url)
    assert answer["state"] == "st4te"
    assert answer["iss"] == v2.w.services.settings.issuer
    token = await v2.w.client.post("/oauth/v2/token", data={
        "grant_type": "authorization_code", "code": answer["code"], "redirect_uri": "https://app.example.com/cb",
    }, auth=(app.client_id, v2.secret))
    assert token.status_code == 200, token.text
    claims = claims_of(token.json()["id_token"])
    assert claims["sub"] == v2.alice.id
    assert claims["sid"] == session_id
    assert claims["amr"] == ["pwd"]
    assert isinstance(claims["auth_time"], int)
    userinfo = await v2.w.client.get("/oidc/v1/userinfo",
                                     headers={"authorization": f"Bearer {token.json()['access_token']}"})
    assert userinfo.status_code == 200
    assert userinfo.json()["sub"] == v2.alice.id
    assert userinfo.json()["given_name"] == "Alice"


@pytest.mark.rule("spec/api-v2.md §5: x-zitadel-login-client → V2_ request, the UI authenticates and calls back")
async def test_login_client_header_hands_the_login_to_the_ui_and_the_client_gets_a_code(v2: V2) -> None:
    location = await v2.authorize(v2.app, header=True)
    assert location.startswith("/ui/v2/login/login?authRequest=V2_")  # the app has no login v2 base URI
    session_id, callback_url = await _login_through_ui(v2, location)
    await _redeem(v2, v2.app, callback_url, session_id)
    again = await v2.w.client.post("/oauth/v2/token", data={
        "grant_type": "authorization_code", "code": query_of(callback_url)["code"],
        "redirect_uri": "https://app.example.com/cb"}, auth=(v2.app.client_id, v2.secret))
    assert again.json()["error"] == "invalid_grant"  # the code is single use, as any code


@pytest.mark.rule("spec/api-v2.md §5: an app whose login version is v2 goes to <baseUri>/login?authRequest=V2_…")
async def test_app_with_login_v2_goes_to_its_base_uri_without_the_header(v2: V2) -> None:
    location = await v2.authorize(v2.app_v2)
    assert location.startswith(f"{LOGIN_UI}/login?authRequest=V2_")
    session_id, callback_url = await _login_through_ui(v2, location)
    await _redeem(v2, v2.app_v2, callback_url, session_id)


@pytest.mark.rule("spec/api-v2.md §5: without the header, a login v1 app still goes to the hosted login")
async def test_login_v1_app_without_header_goes_to_the_hosted_login(v2: V2) -> None:
    location = await v2.authorize(v2.app)
    assert location.startswith("/ui/login/login?authRequestID=")
    assert "V2_" not in location


async def test_the_hosted_login_and_callback_never_handle_a_v2_request(v2: V2) -> None:
    request_id = query_of(await v2.authorize(v2.app, header=True))["authRequest"]
    response = await v2.w.client.get("/oauth/v2/authorize/callback", params={"id": request_id})
    assert response.status_code == 400
    assert "login UI" in response.text
    hosted = await v2.w.client.get("/ui/login/login", params={"authRequestID": request_id})
    assert "Could not find authrequest" in hosted.text
    assert (await v2.call("GET", f"/v2/oidc/auth_requests/{request_id}", v2.login_pat)).status_code == 200


async def test_a_malformed_login_client_header_is_an_error_page(v2: V2) -> None:
    response = await v2.w.client.get("/oauth/v2/authorize", params={
        "client_id": v2.app.client_id, "redirect_uri": "https://app.example.com/cb", "response_type": "code",
        "scope": "openid"}, headers={"x-zitadel-login-client": "x" * 40})
    assert response.status_code == 400
    assert "x-zitadel-login-client" in response.text


@pytest.mark.rule("spec/api-v2.md §4: CreateCallback error → callbackUrl with error=access_denied and state")
async def test_the_ui_can_end_the_request_with_an_error(v2: V2) -> None:
    request_id = query_of(await v2.authorize(v2.app_v2))["authRequest"]
    response = await v2.call("POST", f"/v2/oidc/auth_requests/{request_id}", v2.login_pat, json={
        "error": {"error": "ERROR_REASON_ACCESS_DENIED", "errorDescription": "the user cancelled"}})
    assert response.status_code == 200
    answer = query_of(response.json()["callbackUrl"])
    assert answer["error"] == "access_denied"
    assert answer["error_description"] == "the user cancelled"
    assert answer["state"] == "st4te"
    second = await v2.call("POST", f"/v2/oidc/auth_requests/{request_id}", v2.login_pat, json={
        "error": {"error": "ERROR_REASON_ACCESS_DENIED"}})
    assert error_of(second)[:2] == (400, 9)


@pytest.mark.rule("spec/api-v2.md §1: every RPC is also served as Connect at POST /zitadel.<pkg>.v2.<Service>/<Rpc>")
async def test_the_same_login_over_connect(v2: V2) -> None:
    request_id = query_of(await v2.authorize(v2.app_v2))["authRequest"]
    got = await v2.call("POST", "/zitadel.oidc.v2.OIDCService/GetAuthRequest", v2.login_pat,
                        json={"authRequestId": request_id})
    assert got.status_code == 200, got.text
    assert got.json()["authRequest"]["id"] == request_id
    created = await v2.call("POST", "/zitadel.session.v2.SessionService/CreateSession", v2.login_pat, json={
        "checks": {"user": {"loginName": v2.login_name}, "password": {"password": "Password1!"}}})
    assert created.status_code == 200  # Connect answers 200 where REST answers 201
    callback = await v2.call("POST", "/zitadel.oidc.v2.OIDCService/CreateCallback", v2.login_pat, json={
        "authRequestId": request_id,
        "session": {"sessionId": created.json()["sessionId"], "sessionToken": created.json()["sessionToken"]}})
    assert "code" in query_of(callback.json()["callbackUrl"])
    again = await v2.call("POST", "/zitadel.oidc.v2.OIDCService/CreateCallback", v2.login_pat, json={
        "authRequestId": request_id, "error": {"error": "ERROR_REASON_ACCESS_DENIED"}})
    assert again.status_code == 400
    assert again.json() == {"code": "failed_precondition",
                            "message": "Auth Request has already been handled (COMMAND-Sx208nt)"}
    anonymous = await v2.call("POST", "/zitadel.user.v2.UserService/GetUserByID", None, json={"userId": "1"})
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthenticated")


@pytest.mark.rule("spec/api-v2.md §4: for implicit response types the tokens are built into the callbackUrl fragment")
async def test_implicit_flow_through_the_ui_puts_the_tokens_in_the_fragment(v2: V2) -> None:
    store = v2.w.services.store
    async with store.write() as tx:
        project = await projects.get(tx.conn, v2.app_v2.project_id)
    implicit = await make_web_app(store, project, "implicit", OIDCConfig(
        redirect_uris=("https://app.example.com/cb",), response_types=(ResponseType.ID_TOKEN_TOKEN,),
        grant_types=(GrantType.IMPLICIT,), app_type=AppType.USER_AGENT, auth_method_type=AuthMethodType.NONE,
        login_v2_base_uri=""), secret_hash=None)
    location = await v2.authorize(implicit, response_type="id_token token", nonce="n0nce")
    assert location.startswith("/ui/v2/login/login?authRequest=V2_")  # v2 without a base URI: the default
    session_id, callback_url = await _login_through_ui(v2, location)
    assert callback_url.startswith("https://app.example.com/cb#")
    fragment = {k: v[0] for k, v in parse_qs(urlsplit(callback_url).fragment).items()}
    assert fragment["state"] == "st4te"
    assert "access_token" in fragment
    claims = claims_of(fragment["id_token"])
    assert (claims["sid"], claims["nonce"], claims["amr"]) == (session_id, "n0nce", ["pwd"])
