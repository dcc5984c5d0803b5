"""The v2 session, user and OIDC services under random and hostile JSON, on their REST paths and
their Connect paths, as the login UI's service user: never a 5xx, always ZITADEL's error shape
(REST: numeric `code`; Connect: the code's name), and a rejected call writes nothing.
Schemathesis (tests/api/test_schemathesis.py) covers the REST forms from the OpenAPI document;
this adds the Connect forms and hostile values the schema does not suggest."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bergfried.api import registry
from tests.api_v2.conftest import V2
from tests.fuzz.hostile import TEXT, assert_safe, snapshot
from tests.fuzz.profile import fuzz_settings

V2_ENDPOINTS = [e for e in registry.load() if e.connect_path and e.connect_path.startswith(
    ("/zitadel.session.v2.", "/zitadel.user.v2.", "/zitadel.oidc.v2."))]
KEYS = ["checks", "user", "loginName", "userId", "password", "sessionId", "sessionToken", "authRequestId", "session",
        "metadata", "lifetime", "username", "email", "profile", "givenName", "familyName", "queries", "organization",
        "orgId", "userAgent", "header", "values", "error", "x"]
LEAVES = st.one_of(TEXT, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=True))
JSON = st.recursive(LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                    st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
                    max_leaves=12)
BODY = st.dictionaries(st.sampled_from(KEYS), JSON, max_size=5)
CONNECT_CODES = {"invalid_argument", "not_found", "already_exists", "permission_denied", "failed_precondition",
                 "unauthenticated", "unimplemented", "resource_exhausted"}


def _rest_path(template: str, value: str) -> str:
    out = template
    while "{" in out:
        start, end = out.index("{"), out.index("}")
        out = out[:start] + quote(value, safe="") + out[end + 1:]
    return out


@pytest.mark.rule("spec/api-v2.md: hostile JSON at the v2 services: ZITADEL's error shape, never a 5xx or a write")
@fuzz_settings(60)
@given(index=st.integers(min_value=0, max_value=len(V2_ENDPOINTS) - 1), body=BODY, connect=st.booleans(),
       path_value=TEXT)
async def test_hostile_json_at_the_v2_services(v2: V2, index: int, body: dict[str, Any], connect: bool,
                                               path_value: str) -> None:
    endpoint = V2_ENDPOINTS[index]
    headers = {"authorization": f"Bearer {v2.login_pat}"}
    before = await snapshot(v2.w.services)
    try:
        if connect:
            assert endpoint.connect_path is not None
            response = await v2.w.client.post(endpoint.connect_path, json=body, headers=headers)
        else:
            path = _rest_path(endpoint.path, path_value or "1")
            has_body = endpoint.method in ("POST", "PATCH", "PUT")
            response = await v2.w.client.request(endpoint.method, path, json=body if has_body else None,
                                                 headers=headers)
    except (UnicodeEncodeError, ValueError):
        return  # a lone surrogate or NaN the client cannot encode; nothing was sent
    assert_safe(response)
    if response.status_code >= 400:
        error = response.json()
        if connect:
            assert error["code"] in CONNECT_CODES, error
        else:
            assert isinstance(error["code"], int), error
        assert isinstance(error["message"], str)
        assert await snapshot(v2.w.services) == before, (endpoint.rpc, body, response.text)


@pytest.mark.rule("PostgreSQL refuses NUL in text: a NUL in a v2 request was a 500; now INVALID_ARGUMENT")
async def test_a_nul_in_a_v2_request_is_invalid_argument(v2: V2) -> None:
    before = await snapshot(v2.w.services)
    created = await v2.call("POST", "/v2/sessions", v2.login_pat, json={"checks": {"user": {"loginName": "a\x00"}}})
    assert created.status_code == 400
    assert created.json()["code"] == 3
    connect = await v2.w.client.post("/zitadel.session.v2.SessionService/GetSession", json={"sessionId": "\x00"},
                                     headers={"authorization": f"Bearer {v2.login_pat}"})
    assert connect.status_code == 400
    assert connect.json()["code"] == "invalid_argument"
    by_path = await v2.call("GET", "/v2/users/%00", v2.login_pat)
    assert by_path.status_code == 400
    assert await snapshot(v2.w.services) == before
