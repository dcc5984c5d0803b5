"""The device authorization grant (RFC 8628) in real chromium: the device asks for a code over
HTTP, the user opens `verification_uri_complete`, confirms the prefilled user code, signs in with
the keyboard, allows, and the device's next poll gets the tokens."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from bergfried import services as services_module
from bergfried.domain.apps import AppType, AuthMethodType, GrantType, OIDCConfig
from tests.browser.test_login_pages import PASSWORD, Tab, _assert_accessible, _run
from tests.factories import make_org, make_project, make_user, make_web_app

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _seed(settings: Any) -> tuple[str, str]:
    async def run() -> tuple[str, str]:
        built = services_module.build(settings)
        try:
            org = await make_org(built.store, "ACME")
            await make_user(built.store, org, "alice", password=PASSWORD)
            project = await make_project(built.store, org)
            app = await make_web_app(built.store, project, "Living room TV", OIDCConfig(
                redirect_uris=("http://localhost/cb",), app_type=AppType.NATIVE,
                auth_method_type=AuthMethodType.NONE, grant_types=(GrantType.DEVICE_CODE,),
            ), secret_hash=None)
            await built.keyring.ensure_key("RS256")
            return app.client_id, f"alice@{org.primary_domain}"
        finally:
            await built.close()

    return _run(run)


@pytest.mark.rule("RFC 8628 §3.3: verification_uri_complete → user code → login → allow → the poll gets tokens")
def test_device_flow_in_chromium(live_server: Any, browser: Any) -> None:
    client_id, login_name = _seed(live_server.settings)
    started = httpx.post(live_server.url + "/oauth/v2/device_authorization",
                         data={"client_id": client_id, "scope": "openid profile"}).json()

    def poll() -> httpx.Response:
        return httpx.post(live_server.url + "/oauth/v2/token", data={
            "grant_type": DEVICE_GRANT, "device_code": started["device_code"], "client_id": client_id})

    assert poll().json()["error"] == "authorization_pending"
    first_poll = time.monotonic()
    context = browser.new_context()
    tab = Tab(context)
    page = tab.page
    complete = urlsplit(started["verification_uri_complete"])
    page.goto(f"{live_server.url}{complete.path}?{complete.query}")
    assert urlsplit(page.url).path == "/ui/login/device"
    _assert_accessible(page)
    assert page.get_by_label("User Code").input_value() == started["user_code"]
    assert page.evaluate("document.activeElement.id") == "code"
    with page.expect_navigation(url="**/ui/login/login?**"):
        page.keyboard.press("Enter")

    page.locator("#loginName").focus()  # the field is there and focused before typing
    page.keyboard.type(login_name)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.locator("#password").focus()
    page.keyboard.type(PASSWORD)
    with page.expect_navigation(url="**/ui/login/device/action?**"):
        page.keyboard.press("Enter")
    _assert_accessible(page)
    assert "Living room TV" in page.content()
    assert page.locator("ul.scopes li").all_inner_texts() == ["openid", "profile"]

    with page.expect_navigation():
        page.get_by_role("button", name="Allow").click()
    assert "Device authorization approved" in page.content()
    assert not [text for text in tab.console if "Content Security Policy" in text]
    context.close()

    time.sleep(max(0.0, first_poll + started["interval"] + 0.2 - time.monotonic()))  # RFC 8628 §3.5 interval
    tokens = poll()
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["access_token"]
    assert body["id_token"]
    assert poll().json()["error"] in ("slow_down", "invalid_grant")  # used once
