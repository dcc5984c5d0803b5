"""What every login page promises regardless of the step: CSRF, the user-agent cookie, headers,
the error page, languages, and markup that assistive technology can use."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bergfried.domain.users import HumanUser
from bergfried.store import auth_requests
from bergfried.store import tables as t
from bergfried.store import users as user_store
from tests.factories import count_rows
from tests.login.conftest import PASSWORD, World, csrf_of, error_of, post_form, start

CSP = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"
_INPUT = re.compile(r"<input\b([^>]*)>", re.S)
_ATTR = re.compile(r'([a-zA-Z-]+)(?:="([^"]*)")?')


async def _failed_attempts(world: World) -> int:
    async with world.store.read() as conn:
        user = await user_store.get(conn, world.user.id)
    assert isinstance(user, HumanUser)
    return user.failed_password_attempts


@pytest.mark.rule("OWASP CSRF: a login POST without this browser's token changes nothing (400)")
async def test_posts_without_a_valid_csrf_token_are_rejected_without_any_state_change(world: World) -> None:
    request_id = await world.auth_request()
    page = await start(world.client, request_id)
    stranger = world.browser()
    foreign_token = csrf_of(await start(stranger, await world.auth_request()))  # a request of its own
    attempts = [
        {"authRequestID": request_id, "loginName": world.login_name(), "password": PASSWORD},
        {"authRequestID": request_id, "loginName": world.login_name(), "password": "Wrong1!x", "csrfToken": "x"},
        {"authRequestID": request_id, "loginName": world.login_name(), "password": PASSWORD,
         "csrfToken": foreign_token},
    ]
    for data in attempts:
        for path in ("/ui/login/password", "/ui/login/loginname", "/ui/login/accounts"):
            answer = await world.client.post(path, data=data)
            assert answer.status_code == 400, (path, data)
            assert "The form has expired" in answer.text
            assert answer.headers["content-type"].startswith("text/html")
    # the right token, but a browser without the cookie (a cross-site POST from elsewhere)
    fresh = world.browser()
    answer = await fresh.post("/ui/login/password", data={
        "authRequestID": request_id, "loginName": world.login_name(), "password": PASSWORD,
        "csrfToken": csrf_of(page)})
    assert answer.status_code == 400
    assert await count_rows(world.store, t.sessions) == 0
    assert await _failed_attempts(world) == 0
    assert (await world.load(request_id)).done is False
    ok = await post_form(world.client, "/ui/login/password", page, request_id, loginName=world.login_name(),
                         password=PASSWORD)
    assert ok.status_code == 303  # the page's own token works


@pytest.mark.rule("spec/login.md §1 browser identity: the user-agent cookie (HttpOnly, SameSite=Lax, Path=/)")
async def test_user_agent_cookie_flags_on_http(world: World) -> None:
    page = await start(world.client, await world.auth_request())
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("bergfried.useragent=")
    flags = [part.strip().lower() for part in cookie.split(";")[1:]]
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "path=/" in flags
    assert "secure" not in flags
    again = await start(world.client, await world.auth_request())
    assert "set-cookie" not in again.headers  # the browser keeps its id


@pytest.mark.parametrize("overrides", [{"external_url": "https://login.example.com"}])
@pytest.mark.rule("RFC 6265bis §4.1.3.2 __Host- prefix: Secure, Path=/, no Domain when the issuer is https")
async def test_user_agent_cookie_is_secure_with_host_prefix_on_https(world: World) -> None:
    page = await start(world.client, await world.auth_request())
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("__Host-bergfried.useragent=")
    flags = [part.strip().lower() for part in cookie.split(";")[1:]]
    assert "secure" in flags
    assert "httponly" in flags
    assert not any(flag.startswith("domain=") for flag in flags)
    request_id = await world.auth_request()
    named = await post_form(world.client, "/ui/login/loginname", await start(world.client, request_id), request_id,
                            loginName=world.login_name())
    assert 'autocomplete="current-password"' in named.text  # the secure cookie works for the forms


@pytest.mark.rule("spec/login.md §7: unknown auth request → error page, no redirect")
async def test_unknown_expired_or_answered_auth_requests_get_a_400_page(world: World) -> None:
    expired = await world.auth_request(created_at=(await world.load(await world.auth_request())).created_at
                                       - timedelta(hours=1))
    answered = await world.auth_request()
    async with world.store.write() as tx:
        assert await auth_requests.consume(tx, answered)
    for request_id in ("123", expired, answered, ""):
        answer = await start(world.client, request_id)
        assert answer.status_code == 400, request_id
        assert "location" not in answer.headers
        assert "Could not find authrequest" in answer.text
        assert CSP in answer.headers.get_list("content-security-policy")
    page = await start(world.client, await world.auth_request())
    posted = await post_form(world.client, "/ui/login/loginname", page, "999", loginName=world.login_name())
    assert posted.status_code == 400
    assert "Could not find authrequest" in posted.text


@pytest.mark.rule("CSP Level 3: login pages allow no script, only our stylesheet; never cached")
async def test_pages_carry_a_strict_csp_and_no_store(world: World) -> None:
    page = await start(world.client, await world.auth_request())
    policies = page.headers.get_list("content-security-policy")
    assert CSP in policies  # beside the middleware's `frame-ancestors 'none'`; browsers enforce both
    assert not any("form-action" in policy for policy in policies)
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text
    assert " style=" not in page.text
    css_link = re.search(r'<link rel="stylesheet" href="([^"]+)">', page.text)
    assert css_link is not None
    css = await world.client.get(css_link.group(1))
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in css.text
    missing = await world.client.get("/ui/login/resources/../../etc/passwd")
    assert missing.status_code == 404


@pytest.mark.rule("spec/login.md §4 ui_locales: the login's language; then Accept-Language; else English")
async def test_german_from_ui_locales_and_from_accept_language(world: World) -> None:
    by_locales = await start(world.client, await world.auth_request(ui_locales=("de-CH", "en")))
    assert '<html lang="de">' in by_locales.text
    assert "Anmelden" in by_locales.text
    assert "Loginname" in by_locales.text
    by_header = await start(world.client, await world.auth_request(), **{"accept-language": "fr;q=0.9, de;q=0.8"})
    assert '<html lang="de">' in by_header.text
    locales_win = await start(world.client, await world.auth_request(ui_locales=("en",)),
                              **{"accept-language": "de"})
    assert '<html lang="en">' in locales_win.text
    fallback = await start(world.client, await world.auth_request(), **{"accept-language": "fr, it;q=0.5"})
    assert '<html lang="en">' in fallback.text
    request_id = await world.auth_request(ui_locales=("de",))
    page = await start(world.client, request_id)
    wrong = await post_form(world.client, "/ui/login/password", page, request_id, loginName=world.login_name(),
                            password="Wrong1!x")
    assert error_of(wrong) == "Passwort ist ungültig"
    unknown = await start(world.client, "42", **{"accept-language": "de-DE,de;q=0.9"})
    assert "AuthRequest konnte nicht gefunden werden" in unknown.text


def _inputs(html: str) -> list[dict[str, str]]:
    return [{name: value for name, value in _ATTR.findall(attrs)} for attrs in _INPUT.findall(html)]


@pytest.mark.rule("WCAG 2.2 SC 1.3.1, 3.3.1, 3.1.1: labelled inputs, errors tied to fields, page language")
async def test_every_visible_input_has_a_label_and_errors_are_described(world: World) -> None:
    request_id = await world.auth_request()
    login_page = await start(world.client, request_id)
    error_page = await post_form(world.client, "/ui/login/loginname", login_page, request_id, loginName="nobody")
    password_page = await post_form(world.client, "/ui/login/loginname", login_page, request_id,
                                    loginName=world.login_name())
    for page in (login_page, error_page, password_page):
        assert re.search(r'<html lang="[a-z]{2}">', page.text)
        visible = [i for i in _inputs(page.text) if i.get("type") != "hidden"]
        assert visible
        for field in visible:
            assert f'<label for="{field["id"]}">' in page.text, field
            described = field.get("aria-describedby")
            if described:
                assert f'id="{described}"' in page.text
    autocomplete = {i["name"]: i.get("autocomplete") for i in _inputs(password_page.text)
                    if i.get("type") != "hidden"}
    assert autocomplete == {"loginName": "username", "password": "current-password"}
    named = _inputs(error_page.text)
    login_field = next(i for i in named if i.get("name") == "loginName")
    assert login_field["aria-describedby"] == "loginName-error"
    assert login_field["aria-invalid"] == "true"


async def test_a_body_that_is_not_a_form_is_a_400_page(world: World) -> None:
    request_id = await world.auth_request()
    await start(world.client, request_id)
    answer = await world.client.post("/ui/login/loginname", content=b'{"loginName": "x"}',
                                     headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert "The form could not be read" in answer.text
