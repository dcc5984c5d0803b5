"""Random and hostile requests at userinfo, introspection, revocation and end_session: never a 5xx,
never a stack trace, always the specified error shape."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.profile import examples
from tests.oidc.conftest import Resources, basic

NAMES = ["token", "token_type_hint", "access_token", "client_id", "client_secret", "client_assertion",
         "client_assertion_type", "id_token_hint", "post_logout_redirect_uri", "state", "confirm", "csrfToken"]
HOSTILE = st.sampled_from(["", "x" * 5000, "\x00", "%00", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "access_token",
                           "refresh_token", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                           "https://app.example.com/logged-out", "<script>alert(1)</script>", "yes",
                           "a\r\nSet-Cookie: x=1", "9" * 40])
VALUES = st.one_of(st.text(max_size=80), HOSTILE)
PARAMS = st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=6)
AUTH = st.one_of(st.none(), st.sampled_from(["api", "web", "public"]),
                 st.text(max_size=60).map(lambda v: "Bearer " + v), st.text(max_size=60).map(lambda v: "Basic " + v))
JSON_ERRORS = {"invalid_request", "invalid_client", "unauthorized_client", "invalid_token"}


def _headers(res: Resources, auth: str | None) -> dict[str, str]:
    if auth == "api":
        return basic(res.api.client_id, res.api_secret)
    if auth == "web":
        return basic(res.web.client_id, res.web_secret)
    if auth == "public" or auth is None:
        return {}
    return {"authorization": auth}


@pytest.mark.rule("RFC 6749 §5.2, RFC 6750 §3.1: bad input gets a specified error, never a 500")
@settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(["/oauth/v2/introspect", "/oauth/v2/revoke", "/oidc/v1/userinfo"]),
       params=PARAMS, auth=AUTH, with_client_id=st.booleans())
async def test_random_forms_never_fail_the_server(res: Resources, path: str, params: dict[str, str],
                                                  auth: str | None, with_client_id: bool) -> None:
    if with_client_id:
        params = {**params, "client_id": res.public.client_id if auth == "public" else res.web.client_id}
    try:
        response = await res.client.post(path, data=params, headers=_headers(res, auth))
    except (UnicodeEncodeError, ValueError):
        return  # the client library refuses to send such a header; nothing reached the server
    assert response.status_code < 500
    assert "Traceback" not in response.text
    assert response.headers["cache-control"] == "no-store"
    if response.status_code >= 400:
        assert response.json()["error"] in JSON_ERRORS


@pytest.mark.rule("RP-Initiated Logout §3: bad logout requests are pages, never a 500 or a foreign redirect")
@settings(max_examples=examples(40), deadline=None, suppress_health_check=list(HealthCheck))
@given(params=PARAMS, post=st.booleans())
async def test_random_logout_requests_never_fail_the_server(res: Resources, params: dict[str, str],
                                                            post: bool) -> None:
    if post:
        response = await res.client.post("/oidc/v1/end_session", data=params)
    else:
        response = await res.client.get("/oidc/v1/end_session", params=params)
    assert response.status_code in (200, 302, 400)
    assert "Traceback" not in response.text
    if response.status_code == 302:
        assert response.headers["location"].startswith("https://app.example.com/logged-out")
