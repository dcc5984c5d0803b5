"""The hosted login's forms (and the device pages) under random and hostile input: very long
values, NUL, CR/LF, `../`, `<script>`, lone surrogates, invalid UTF-8 bytes, with and without a
valid CSRF token. Every answer keeps `hostile.assert_safe`, and nothing is written unless the
answer moves the browser on (a 303)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.hostile import RAW_BYTES, TEXT, assert_safe, snapshot
from tests.fuzz.profile import fuzz_settings
from tests.login.conftest import World, csrf_of, start

FORMS: dict[str, list[str]] = {
    "/ui/login/loginname": ["loginName", "register"],
    "/ui/login/password": ["loginName", "password"],
    "/ui/login/accounts": ["userID"],
    "/ui/login/register": ["email", "username", "firstname", "lastname", "language", "register-password",
                           "register-password-confirmation"],
    "/ui/login/device": ["code"],
    "/ui/login/device/allow": ["authRequestID"],
    "/ui/login/device/deny": ["authRequestID"],
}
PATHS = sorted(FORMS)
GET_PAGES = ["/ui/login/login", "/ui/login/loginname", "/ui/login/password", "/ui/login/accounts",
             "/ui/login/register", "/ui/login/device", "/ui/login/device/action", "/oauth/v2/authorize/callback",
             "/ui/login/resources/login.css"]


@st.composite
def _forms(draw: st.DrawFn) -> tuple[str, dict[str, str], str]:
    path = draw(st.sampled_from(PATHS))
    names = FORMS[path] + ["authRequestID", "csrfToken", "x"]
    fields = draw(st.dictionaries(st.sampled_from(names), TEXT, max_size=len(names)))
    csrf = draw(st.sampled_from(["valid", "missing", "hostile"]))
    return path, fields, csrf


async def _page(world: World) -> tuple[str, str]:
    request_id = await world.auth_request()
    page = await start(world.client, request_id)
    assert page.status_code == 200
    return request_id, csrf_of(page)


@pytest.mark.rule("OWASP ASVS V5.1/V5.3: login forms reject hostile input without a 5xx, a reflected script or a write")
@fuzz_settings(60)
@given(form=_forms(), real_request=st.booleans())
async def test_hostile_login_form_posts_are_safe_and_write_nothing(
    world: World, form: tuple[str, dict[str, str], str], real_request: bool,
) -> None:
    path, fields, csrf = form
    request_id, token = await _page(world)
    data: dict[str, Any] = dict(fields)
    if real_request:
        data["authRequestID"] = request_id
    if csrf == "valid":
        data["csrfToken"] = token
    elif csrf == "missing":
        data.pop("csrfToken", None)
    before = await snapshot(world.services)
    try:
        response = await world.client.post(path, data=data)
    except UnicodeEncodeError:
        return  # httpx cannot send a lone surrogate; the raw-bytes test sends such bodies
    assert_safe(response)
    if response.status_code != 303:
        assert await snapshot(world.services) == before, (path, data, response.status_code)


@pytest.mark.rule("OWASP ASVS V5.1.1: bodies that are not UTF-8 form encoding get a page, never a 500")
@fuzz_settings(40)
@given(path=st.sampled_from(PATHS), body=RAW_BYTES, content_type=st.sampled_from(
    ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=latin-1",
     "multipart/form-data; boundary=x", "text/plain", ""]))
async def test_raw_bodies_at_login_forms_are_rejected_cleanly(world: World, path: str, body: bytes,
                                                              content_type: str) -> None:
    await _page(world)  # a cookie in the jar, as a real browser has
    before = await snapshot(world.services)
    response = await world.client.post(path, content=body, headers={"content-type": content_type})
    assert_safe(response)
    assert response.status_code in (400, 403, 404, 405, 413), response.status_code
    assert await snapshot(world.services) == before


@pytest.mark.rule("OWASP ASVS V5.3.3: query strings (ids, user codes, locales) are never reflected unescaped")
@fuzz_settings(60)
@given(path=st.sampled_from(GET_PAGES), params=st.dictionaries(
    st.sampled_from(["authRequestID", "user_code", "id", "ui_locales", "login_hint", "x"]), TEXT, max_size=3),
    language=st.one_of(st.none(), TEXT), raw=st.one_of(st.none(), st.sampled_from(
        ["authRequestID=%ff%fe", "user_code=%00%0d%0a", "id=..%2f..%2f", "authRequestID=%3Cscript%3E"])))
async def test_hostile_query_strings_at_login_pages_are_safe(world: World, path: str, params: dict[str, str],
                                                             language: str | None, raw: str | None) -> None:
    headers = {"accept-language": language} if language is not None else {}
    before = await snapshot(world.services)
    try:
        if raw is not None:
            response = await world.client.get(f"{path}?{raw}", headers=headers)
        else:
            response = await world.client.get(path, params=params, headers=headers)
    except (UnicodeEncodeError, ValueError):
        return  # httpx refuses such a header or URL; nothing reached the server
    assert_safe(response)
    assert await snapshot(world.services) == before
