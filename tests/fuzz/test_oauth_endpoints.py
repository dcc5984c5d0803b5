"""The OAuth and OIDC endpoints under raw and hostile input, beyond tests/oidc/test_fuzz_*.py
(random parameters at authorize, token, introspect, revoke, userinfo, end_session): bodies that
are not UTF-8 form encoding at every form endpoint, raw query strings at every GET endpoint,
random device authorization requests, and CR/LF, `<script>` and foreign URLs in the values that
end up in a `Location` header or a page (state, redirect URIs, login_hint, ui_locales)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette

from bergfried.domain.apps import AppType, AuthMethodType, GrantType, OIDCConfig
from bergfried.web.app import create_app
from tests.factories import make_org, make_project, make_web_app
from tests.fuzz.hostile import RAW_BYTES, TEXT, assert_safe, raw_get, snapshot
from tests.fuzz.profile import fuzz_settings
from tests.oidc.conftest import LOGOUT_URI, Resources

FORM_ENDPOINTS = ["/oauth/v2/token", "/oauth/v2/introspect", "/oauth/v2/revoke", "/oidc/v1/userinfo",
                  "/oauth/v2/authorize", "/oidc/v1/end_session", "/oauth/v2/device_authorization"]
GET_ENDPOINTS = ["/oauth/v2/authorize", "/oidc/v1/end_session", "/oidc/v1/userinfo", "/oauth/v2/authorize/callback",
                 "/.well-known/openid-configuration", "/oauth/v2/keys", "/ui/login/device", "/debug/ready"]
RAW_QUERIES = [b"client_id=%ff%fe", b"client_id=\xff\xfe", b"state=%00", b"state=\x00", b"a=%E0%80%AF",
               b"redirect_uri=%0d%0aSet-Cookie:%20injected=1", b"state=a\r\nSet-Cookie: injected=1",
               b"id=..%2f..%2fetc%2fpasswd", b"client_id=a&client_id=b", b"%", b"=&=&=", b"x=" + b"y" * 9000,
               b"post_logout_redirect_uri=https%3A%2F%2Fevil.example&state=%3Cscript%3E", b"user_code=<script>"]
JSON_ERRORS = {"invalid_request", "invalid_client", "unauthorized_client", "invalid_token", "invalid_grant",
               "unsupported_grant_type", "invalid_scope"}


@pytest.mark.rule("RFC 6749 §3.1/§5.2: a body that is not UTF-8 form encoding is invalid_request, never a 500")
@fuzz_settings(40)
@given(path=st.sampled_from(FORM_ENDPOINTS), body=RAW_BYTES, content_type=st.sampled_from(
    ["application/x-www-form-urlencoded", "application/json", "multipart/form-data; boundary=x", ""]))
async def test_raw_bodies_at_every_form_endpoint_are_rejected_cleanly(res: Resources, path: str, body: bytes,
                                                                      content_type: str) -> None:
    before = await snapshot(res.services)
    response = await res.client.post(path, content=body, headers={"content-type": content_type})
    assert_safe(response)
    # 429: the long profile sends more failures from one IP than the rate limit allows
    assert response.status_code in (200, 302, 400, 401, 413, 429), (path, response.status_code, response.text[:200])
    if response.status_code >= 400 and response.headers["content-type"].startswith("application/json"):
        assert response.json()["error"] in JSON_ERRORS
    assert await snapshot(res.services) == before


@pytest.fixture
async def raw_app(res: Resources) -> AsyncIterator[Starlette]:
    app = create_app(res.services.settings, prebuilt=res.services)
    async with app.router.lifespan_context(app):
        yield app


@pytest.mark.rule("OWASP ASVS V5.1.1: raw query strings (bad UTF-8, NUL, CR/LF) never fail the server")
@fuzz_settings(30)
@given(path=st.sampled_from(GET_ENDPOINTS), query=st.one_of(st.sampled_from(RAW_QUERIES), st.binary(max_size=40)),
       client=st.sampled_from(["none", "web"]))
async def test_raw_query_strings_at_every_get_endpoint_are_safe(res: Resources, raw_app: Starlette, path: str,
                                                                query: bytes, client: str) -> None:
    if client == "web":
        query = f"client_id={res.web.client_id}&redirect_uri=https://app.example.com/cb&".encode() + query
    before = await snapshot(res.services)
    response = await raw_get(raw_app, path, query)
    assert_safe(response)
    assert await snapshot(res.services) == before


@st.composite
def _device_params(draw: st.DrawFn) -> dict[str, str]:
    names = ["client_id", "scope", "client_secret", "audience", "x"]
    params = draw(st.dictionaries(st.sampled_from(names), TEXT, max_size=4))
    if draw(st.booleans()):
        params["client_id"] = "DEVICE"
    return params


@pytest.mark.rule("RFC 8628 §3.1-3.2: random device authorization requests: JSON errors, a row only on success")
@fuzz_settings(40)
@given(params=_device_params())
async def test_random_device_authorization_requests(res: Resources, params: dict[str, str]) -> None:
    device = await _device_app(res)
    if params.get("client_id") == "DEVICE":
        params["client_id"] = device
    before = await snapshot(res.services)
    try:
        response = await res.client.post("/oauth/v2/device_authorization", data=params)
    except UnicodeEncodeError:
        return
    assert_safe(response)
    assert response.headers["cache-control"] == "no-store"
    if response.status_code == 200:
        assert {"device_code", "user_code", "verification_uri"} <= set(response.json())
    else:
        assert response.status_code in (400, 401, 429), response.text
        assert response.json()["error"] in JSON_ERRORS
        assert await snapshot(res.services) == before


_DEVICE_APPS: dict[int, str] = {}


async def _device_app(res: Resources) -> str:
    key = id(res)
    if key not in _DEVICE_APPS:
        project = await make_project(res.services.store, await make_org(res.services.store), "tv")
        app = await make_web_app(res.services.store, project, "tv", OIDCConfig(
            redirect_uris=(), app_type=AppType.NATIVE, auth_method_type=AuthMethodType.NONE,
            grant_types=(GrantType.DEVICE_CODE,)), secret_hash=None)
        _DEVICE_APPS[key] = app.client_id
    return _DEVICE_APPS[key]


@pytest.mark.rule("RFC 9700 §4.1/§4.11, OWASP ASVS V5.1.5: no header injection or open redirect via parameters")
@fuzz_settings(60)
@given(endpoint=st.sampled_from(["authorize", "end_session"]), post=st.booleans(), values=st.dictionaries(
    st.sampled_from(["state", "redirect_uri", "login_hint", "ui_locales", "nonce", "prompt", "response_mode",
                     "post_logout_redirect_uri", "scope", "max_age"]), TEXT, min_size=1, max_size=4))
async def test_hostile_values_never_inject_headers_or_redirect_elsewhere(
    res: Resources, endpoint: str, post: bool, values: dict[str, str],
) -> None:
    if endpoint == "authorize":
        path = "/oauth/v2/authorize"
        params = {"client_id": res.web.client_id, "redirect_uri": "https://app.example.com/cb",
                  "response_type": "code", "scope": "openid", **values}
        allowed: tuple[str, ...] = ("https://app.example.com/cb", "/ui/login/login")
    else:
        path = "/oidc/v1/end_session"
        params = {"client_id": res.web.client_id, "post_logout_redirect_uri": LOGOUT_URI, **values}
        allowed = (LOGOUT_URI,)
    try:
        if post:
            response = await res.client.post(path, data=params)
        else:
            response = await res.client.get(path, params=params)
    except UnicodeEncodeError:
        return
    assert_safe(response)
    location = response.headers.get("location")
    if location is not None:
        assert location.startswith(allowed), location
        if location.startswith("https://"):
            registered = urlsplit(allowed[0])
            assert urlsplit(location)[:3] == registered[:3], location  # scheme, host and path exactly
