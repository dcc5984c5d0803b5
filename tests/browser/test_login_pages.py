"""The hosted login in real chromium: from `/oauth/v2/authorize` through the login-name and
password pages, typed with the keyboard, to the callback and the client's redirect URI; then SSO
on the same browser. Also what assistive technology needs: labels, `lang`, errors tied to fields,
and no CSP violations from our own pages."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from bergfried import services as services_module
from bergfried.domain.apps import OIDCConfig
from bergfried.domain.auth_requests import AuthRequest
from bergfried.store import auth_requests
from tests.browser.conftest import free_port
from tests.factories import make_org, make_project, make_user, make_web_app

PASSWORD = "Password1!"
CALLBACK = "/oauth/v2/authorize/callback"

# Every visible form control must have a label; every aria-describedby must point at an element.
UNLABELLED = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden')
  .filter(el => !el.labels || el.labels.length === 0)
  .map(el => el.name || el.id)"""
DANGLING_DESCRIPTIONS = """() => Array.from(document.querySelectorAll('[aria-describedby]'))
  .filter(el => !document.getElementById(el.getAttribute('aria-describedby')))
  .map(el => el.name || el.id)"""


T = TypeVar("T")


def _run(coroutine: Callable[[], Awaitable[T]]) -> T:
    """Playwright's sync API keeps an event loop running in this thread: use another thread."""

    async def main() -> T:
        return await coroutine()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


class _Client(BaseHTTPRequestHandler):
    """The application behind the redirect URI: answers every GET with a small page."""

    def do_GET(self) -> None:
        body = b"<!doctype html><html lang=en><title>app</title>signed in</html>"
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def client_app() -> Iterator[str]:
    """A client application on a free local port; yields its redirect URI."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Client)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cb"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Seeded:
    client_id: str
    login_name: str
    redirect_uri: str


def _seed(settings: Any, redirect_uri: str) -> Seeded:
    async def run() -> Seeded:
        built = services_module.build(settings)
        try:
            org = await make_org(built.store, "ACME")
            await make_user(built.store, org, "alice", password=PASSWORD)
            project = await make_project(built.store, org)
            app = await make_web_app(built.store, project, "web", OIDCConfig(redirect_uris=(redirect_uri,)))
            return Seeded(app.client_id, f"alice@{org.primary_domain}", redirect_uri)
        finally:
            await built.close()

    return _run(run)


def _load(settings: Any, request_id: str) -> AuthRequest:
    async def run() -> AuthRequest:
        built = services_module.build(settings)
        try:
            async with built.store.read() as conn:
                found = await auth_requests.get(conn, request_id)
        finally:
            await built.close()
        assert found is not None
        return found

    return _run(run)


def _authorize_url(base: str, seeded: Seeded, state: str) -> str:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return base + "/oauth/v2/authorize?" + urlencode({
        "client_id": seeded.client_id, "redirect_uri": seeded.redirect_uri, "response_type": "code",
        "scope": "openid profile", "state": state, "code_challenge": challenge, "code_challenge_method": "S256",
    })


def _assert_accessible(page: Any) -> None:
    assert page.evaluate("document.documentElement.lang") in ("en", "de")
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(DANGLING_DESCRIPTIONS) == []


class Tab:
    """A chromium page that records the requests it made and its console messages."""

    def __init__(self, context: Any) -> None:
        self.page = context.new_page()
        self.requests: list[str] = []
        self.console: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: self.console.append(message.text))

    def callback_ids(self) -> list[str]:
        return [parse_qs(urlsplit(url).query)["id"][0] for url in self.requests if urlsplit(url).path == CALLBACK]


@pytest.mark.rule("spec/login.md §1: authorize → /ui/login/login → password → callback → redirect_uri")
def test_keyboard_login_reaches_the_callback_and_links_the_session(live_server: Any, browser: Any,
                                                                   client_app: str) -> None:
    seeded = _seed(live_server.settings, client_app)
    context = browser.new_context()
    tab = Tab(context)
    page = tab.page
    page.goto(_authorize_url(live_server.url, seeded, "state-1"))
    assert urlsplit(page.url).path == "/ui/login/login"
    request_id = parse_qs(urlsplit(page.url).query)["authRequestID"][0]
    _assert_accessible(page)
    assert page.evaluate("document.activeElement.id") == "loginName"
    assert page.get_by_label("Login name").count() == 1
    # our stylesheet loaded under the CSP, and the focused field shows a focus ring
    assert page.evaluate("getComputedStyle(document.querySelector('button')).backgroundColor") == "rgb(29, 78, 216)"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineWidth") == "3px"

    page.keyboard.type(seeded.login_name)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_label("Password", exact=True).count() == 1
    assert page.evaluate("document.activeElement.id") == "password"
    _assert_accessible(page)

    page.keyboard.type(PASSWORD)
    with page.expect_navigation(url=client_app + "**"):
        page.keyboard.press("Enter")
    final = urlsplit(page.url)
    assert f"{final.scheme}://{final.netloc}{final.path}" == client_app
    query = parse_qs(final.query)
    assert query["state"] == ["state-1"]
    assert query["code"][0]
    assert tab.callback_ids() == [request_id]
    linked = _load(live_server.settings, request_id)
    assert linked.session_id is not None
    assert linked.amr == ("pwd",)
    assert linked.consumed_at is not None  # the callback answered it
    cookie = next(c for c in context.cookies() if c["name"] == "bergfried.useragent")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert not [text for text in tab.console if "Content Security Policy" in text]

    # SSO: the same browser signs in again without a page.
    sso = Tab(context)
    sso.page.goto(_authorize_url(live_server.url, seeded, "state-2"))
    assert sso.page.url.startswith(client_app + "?")
    assert parse_qs(urlsplit(sso.page.url).query)["state"] == ["state-2"]
    [second_id] = sso.callback_ids()
    assert _load(live_server.settings, second_id).session_id == linked.session_id
    context.close()


@pytest.mark.rule("WCAG 2.2 SC 3.3.1: the password error is announced and tied to its field")
def test_wrong_password_error_is_tied_to_the_field_in_german(live_server: Any, browser: Any, client_app: str) -> None:
    seeded = _seed(live_server.settings, client_app)
    context = browser.new_context(locale="de-DE")
    tab = Tab(context)
    page = tab.page
    page.goto(_authorize_url(live_server.url, seeded, "s"))
    assert page.evaluate("document.documentElement.lang") == "de"
    page.keyboard.type(seeded.login_name)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.keyboard.type("Wrong1!password")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    field = page.get_by_label("Passwort", exact=True)
    assert field.get_attribute("aria-invalid") == "true"
    described = field.get_attribute("aria-describedby")
    assert described
    assert page.locator(f"#{described}").inner_text() == "Passwort ist ungültig"
    assert page.locator(f"#{described}").get_attribute("role") == "alert"
    _assert_accessible(page)
    assert tab.callback_ids() == []
    assert not [text for text in tab.console if "Content Security Policy" in text]
    context.close()


@pytest.mark.rule("spec/login.md §4 prompt=create → registration page; §6 fields; keyboard only, labelled")
def test_prompt_create_registers_in_the_browser_and_reaches_the_client(live_server: Any, browser: Any,
                                                                       client_app: str) -> None:
    seeded = _seed(live_server.settings, client_app)
    context = browser.new_context()
    tab = Tab(context)
    page = tab.page
    page.goto(_authorize_url(live_server.url, seeded, "state-r") + "&prompt=create&ui_locales=de")
    assert page.locator('form[action="/ui/login/register"]').count() == 1
    assert page.evaluate("document.documentElement.lang") == "de"
    _assert_accessible(page)
    page.get_by_label("E-Mail", exact=True).fill("wile@acme.example")
    page.get_by_label("Vorname").fill("Wile")
    page.get_by_label("Nachname").fill("Coyote")
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    page.get_by_label("Passwort bestätigen").fill("not the same 1A!")
    with page.expect_navigation():
        page.get_by_role("button", name="Registrieren").click()
    assert page.get_by_role("alert").inner_text() == "Passwort Bestätigung stimmt nicht überein"
    assert page.get_by_label("E-Mail", exact=True).input_value() == "wile@acme.example"
    _assert_accessible(page)
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    page.get_by_label("Passwort bestätigen").fill(PASSWORD)
    with page.expect_navigation(url=client_app + "**"):
        page.get_by_role("button", name="Registrieren").click()
    assert parse_qs(urlsplit(page.url).query)["state"] == ["state-r"]
    [request_id] = tab.callback_ids()
    assert _load(live_server.settings, request_id).user_id is not None
    assert not [text for text in tab.console if "Content Security Policy" in text]
    context.close()
