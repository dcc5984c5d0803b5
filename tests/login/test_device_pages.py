"""The hosted login's device authorization pages (RFC 8628 §3.3; spec/login.md §1 `/device`;
spec/other-grants.md §5 step 2) through the ASGI app: user code → the ordinary login steps →
allow/deny → done, and the device's poll sees the decision."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa

from bergfried.domain.apps import Application, AppType, AuthMethodType, GrantType, OIDCConfig
from bergfried.store import projects as project_store
from bergfried.store import tables as t
from tests.factories import make_web_app
from tests.login.conftest import World, csrf_of, sign_in

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_CODE_ERROR = re.compile(r'<p id="code-error" class="error" role="alert">([^<]*)</p>')


async def device_app(world: World) -> Application:
    await world.services.keyring.ensure_key("RS256")  # the token endpoint signs the ID token
    async with world.store.read() as conn:
        project = await project_store.find(conn, world.app.project_id)
    assert project is not None
    return await make_web_app(world.store, project, "tv", OIDCConfig(
        redirect_uris=("http://localhost/cb",), app_type=AppType.NATIVE, auth_method_type=AuthMethodType.NONE,
        grant_types=(GrantType.DEVICE_CODE,),
    ), secret_hash=None)


async def start_device(world: World, app: Application) -> dict[str, Any]:
    response = await world.client.post("/oauth/v2/device_authorization",
                                       data={"client_id": app.client_id, "scope": "openid profile"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def poll(world: World, app: Application, device_code: str) -> httpx.Response:
    return await world.client.post("/oauth/v2/token", data={"grant_type": DEVICE_GRANT, "device_code": device_code,
                                                           "client_id": app.client_id})


async def enter_code(client: httpx.AsyncClient, code: str, prefill: str = "") -> httpx.Response:
    page = await client.get("/ui/login/device", params={"user_code": prefill} if prefill else {})
    assert page.status_code == 200, page.text
    return await client.post("/ui/login/device", data={"code": code, "csrfToken": csrf_of(page)})


def request_id_of(response: httpx.Response, path: str) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.text[:500])
    location = urlsplit(response.headers["location"])
    assert location.path == path
    return parse_qs(location.query)["authRequestID"][0]


async def signed_in_action_page(world: World, app: Application, user_code: str) -> tuple[str, httpx.Response]:
    """User code (typed in lower case, without the dash), login, and the allow/deny page."""
    entered = await enter_code(world.client, user_code.replace("-", "").lower())
    request_id = request_id_of(entered, "/ui/login/login")
    signed_in = await sign_in(world.client, request_id, world.login_name())
    assert request_id_of(signed_in, "/ui/login/device/action") == request_id
    page = await world.client.get(signed_in.headers["location"])
    assert page.status_code == 200, page.text
    return request_id, page


@pytest.mark.rule("RFC 8628 §3.3, §6.1: user code page, login, allow → the device's poll gets the tokens")
async def test_user_code_login_allow(world: World) -> None:
    app = await device_app(world)
    started = await start_device(world, app)
    redirected = await world.client.get(urlsplit(started["verification_uri_complete"]).path,
                                        params={"user_code": started["user_code"]})
    assert redirected.headers["location"] == f"/ui/login/device?user_code={started['user_code']}"
    prefilled = await world.client.get(redirected.headers["location"])
    assert f'value="{started["user_code"]}"' in prefilled.text
    request_id, page = await signed_in_action_page(world, app, started["user_code"])
    assert "tv" in page.text
    assert "<li>profile</li>" in page.text
    done = await world.client.post("/ui/login/device/allow",
                                   data={"authRequestID": request_id, "csrfToken": csrf_of(page)})
    assert done.status_code == 200, done.text
    assert "Device authorization approved" in done.text
    tokens = await poll(world, app, started["device_code"])
    assert tokens.status_code == 200, tokens.text
    userinfo = await world.client.get("/oidc/v1/userinfo",
                                      headers={"authorization": f"Bearer {tokens.json()['access_token']}"})
    assert userinfo.json()["sub"] == world.user.id
    again = await world.client.post("/ui/login/device/deny",
                                    data={"authRequestID": request_id, "csrfToken": csrf_of(page)})
    assert again.status_code == 400  # decided once; the login request is used up


@pytest.mark.rule("RFC 8628 §3.5: the user denies on the page → access_denied for the device")
async def test_deny(world: World) -> None:
    app = await device_app(world)
    started = await start_device(world, app)
    request_id, page = await signed_in_action_page(world, app, started["user_code"])
    done = await world.client.post("/ui/login/device/deny",
                                   data={"authRequestID": request_id, "csrfToken": csrf_of(page)})
    assert "Device authorization denied" in done.text
    assert (await poll(world, app, started["device_code"])).json()["error"] == "access_denied"


@pytest.mark.rule("RFC 8628 §3.3: an unknown user code is refused on the page and starts no login")
async def test_unknown_user_code(world: World) -> None:
    response = await enter_code(world.client, "BBBB-CCCC")
    assert response.status_code == 400
    match = _CODE_ERROR.search(response.text)
    assert match is not None
    assert match.group(1) == "The user code is unknown, expired or already used"
    async with world.store.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.auth_requests))).scalar_one() == 0


@pytest.mark.rule("spec/login.md: every login form carries the browser's CSRF token")
async def test_user_code_without_csrf(world: World) -> None:
    app = await device_app(world)
    started = await start_device(world, app)
    await world.client.get("/ui/login/device")  # the cookie, but no token
    response = await world.client.post("/ui/login/device", data={"code": started["user_code"]})
    assert response.status_code == 400
    async with world.store.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.auth_requests))).scalar_one() == 0


@pytest.mark.rule("login CSRF: another browser can neither see nor answer this browser's device login")
async def test_other_browser_cannot_decide(world: World) -> None:
    app = await device_app(world)
    started = await start_device(world, app)
    request_id, _ = await signed_in_action_page(world, app, started["user_code"])
    other = world.browser()
    page = await other.get("/ui/login/device/action", params={"authRequestID": request_id})
    assert page.status_code == 400
    own_form = await other.get("/ui/login/device")
    refused = await other.post("/ui/login/device/allow",
                               data={"authRequestID": request_id, "csrfToken": csrf_of(own_form)})
    assert refused.status_code == 400
    assert (await poll(world, app, started["device_code"])).json()["error"] == "authorization_pending"


@pytest.mark.rule("RFC 8628: a device login is answered on the device page, never at the authorize callback")
async def test_callback_refuses_a_device_login(world: World) -> None:
    app = await device_app(world)
    started = await start_device(world, app)
    request_id, _ = await signed_in_action_page(world, app, started["user_code"])
    response = await world.client.get("/oauth/v2/authorize/callback", params={"id": request_id})
    assert response.status_code == 400
    assert "location" not in response.headers


@pytest.mark.rule("spec/login.md §4: the user-code page speaks the browser's language (de)")
async def test_user_code_page_in_german(world: World) -> None:
    page = await world.client.get("/ui/login/device", headers={"accept-language": "de"})
    assert '<html lang="de">' in page.text
    assert "Benutzercode" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in page.headers["content-security-policy"]


@pytest.mark.rule("spec/other-grants.md §5 success: the tokens belong to the approving login session; once it "
                  "has ended the device code gives none")
async def test_tokens_name_the_login_session(world: World) -> None:
    app = await device_app(world)
    first = await start_device(world, app)
    request_id, page = await signed_in_action_page(world, app, first["user_code"])
    await world.client.post("/ui/login/device/allow", data={"authRequestID": request_id, "csrfToken": csrf_of(page)})
    assert (await poll(world, app, first["device_code"])).status_code == 200
    async with world.store.read() as conn:
        session_id = (await conn.execute(sa.select(t.access_tokens.c.session_id)
                                         .where(t.access_tokens.c.client_id == app.client_id))).scalar_one()
        linked = (await conn.execute(sa.select(t.auth_requests.c.session_id)
                                     .where(t.auth_requests.c.id == request_id))).scalar_one()
    assert session_id is not None
    assert session_id == linked
    second = await start_device(world, app)  # the same browser: SSO straight to the allow/deny page
    request_id = request_id_of(await enter_code(world.client, second["user_code"]), "/ui/login/login")
    sso = await world.client.get("/ui/login/login", params={"authRequestID": request_id})
    assert request_id_of(sso, "/ui/login/device/action") == request_id
    page = await world.client.get(sso.headers["location"])
    await world.client.post("/ui/login/device/allow", data={"authRequestID": request_id, "csrfToken": csrf_of(page)})
    async with world.store.write() as tx:
        await tx.conn.execute(t.sessions.update().where(t.sessions.c.id == session_id).values(terminated_at=tx.now))
    refused = await poll(world, app, second["device_code"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
