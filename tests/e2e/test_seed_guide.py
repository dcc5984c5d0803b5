"""Seed 000, "User Metadata", end to end against `bergfried start --demo` as a real process, on
SQLite and PostgreSQL: log in through the hosted login in chromium, redeem the code with the
guide's own curl command, read the metadata from userinfo, then turn on "User Info inside ID
Token" and find it in the ID token. Then the same provider with two relying-party libraries no
one here wrote: panva's openid-client (node) and Authlib (Python)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

import httpx
import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.processes import bergfried_server, clean_env, free_port

pytestmark = pytest.mark.e2e
NODE_RP = Path(__file__).with_name("node") / "rp.mjs"
REDIRECT_URI = "http://localhost"
GUIDE_SCOPE = "openid profile urn:zitadel:iam:user:metadata"
MASTERKEY = "e2e-masterkey-0123456789abcdefgh"
APP_URL = re.compile(r"^http://localhost/(\?|#|$)")


@dataclass
class Demo:
    issuer: str
    client_id: str
    client_secret: str
    login_name: str
    password: str
    database_url: str
    env: dict[str, str]
    pat: str  # the first start's personal access token (IAM_OWNER machine user)


def _field(stdout: str, label: str) -> str:
    match = re.search(rf"^\s+{label}\s+(\S+)\s*$", stdout, re.MULTILINE)
    assert match, f"{label!r} not in:\n{stdout}"
    return match.group(1)


@pytest.fixture
async def demo(database_url: str, tmp_path: Path) -> AsyncIterator[Demo]:
    port = free_port()
    pat_path = tmp_path / "admin.pat"
    env = clean_env(BERGFRIED_PORT=str(port), BERGFRIED_DATABASE_URL=database_url, BERGFRIED_MASTERKEY=MASTERKEY,
                    BERGFRIED_FIRSTINSTANCE_PATPATH=str(pat_path))
    with bergfried_server(["start", "--demo"], tmp_path, env, port, "demo") as server:
        await asyncio.to_thread(server.wait_ready)
        out = server.stdout()
        yield Demo(issuer=f"http://localhost:{port}", client_id=_field(out, "client id"),
                   client_secret=_field(out, "client secret"), login_name=_field(out, "login name"),
                   password=_field(out, "password"), database_url=database_url, env=env,
                   pat=pat_path.read_text().strip())


class Browser:
    """One chromium with one cookie jar: the second login of a test is single sign-on."""

    def __init__(self) -> None:
        self._playwright: Any = None
        self._browser: Any = None
        self.page: Any = None

    async def __aenter__(self) -> Browser:
        from playwright.async_api import async_playwright

        self._playwright = await async_playwright().start()
        self._browser = await self._playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.page = await (await self._browser.new_context()).new_page()
        self._arrived: asyncio.Future[str] | None = None
        await self.page.route(APP_URL, self._capture)
        self.page.on("request", self._seen)
        return self

    def _seen(self, request: Any) -> None:
        # A redirect chain that ends at the app without any page (single sign-on) is not always
        # handed to the route above; the request itself is enough to know where it went.
        if APP_URL.match(request.url) and self._arrived is not None and not self._arrived.done():
            self._arrived.set_result(request.url)

    async def _capture(self, route: Any) -> None:
        """The app at http://localhost does not exist here: record where the browser was sent."""
        if self._arrived is not None and not self._arrived.done():
            self._arrived.set_result(route.request.url)
        await route.fulfill(status=200, content_type="text/plain", body="the app would take it from here")

    async def __aexit__(self, *exc: object) -> None:
        await self._browser.close()
        await self._playwright.stop()

    async def login(self, authorize_url: str, login_name: str, password: str) -> str:
        """Open the authorize URL, log in if the login asks, return where the client was sent."""
        from playwright.async_api import Error as PlaywrightError

        self._arrived = arrived = asyncio.get_running_loop().create_future()
        try:
            await self.page.goto(authorize_url)
        except PlaywrightError:
            if not arrived.done():
                raise
        if not arrived.done():
            await self.page.fill("#loginName", login_name)
            await self.page.keyboard.press("Enter")
            await self.page.wait_for_selector("#password")
            await self.page.fill("#password", password)
            await self.page.keyboard.press("Enter")
        return await asyncio.wait_for(arrived, 20)


def _basic_auth_like_zitadel_tools(client_id: str, secret: str) -> str:
    """zitadel-tools' basicauth.go: URL-query-escape both halves, join with ':', base64."""
    return base64.b64encode(f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()).decode()


def _guide_curl(env: dict[str, str], script: str) -> dict[str, Any]:
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


TOKEN_REQUEST = """curl --silent --request POST \\
--url "${ZITADEL_DOMAIN}/oauth/v2/token" \\
--header "Accept: application/json" \\
--header "Authorization: Basic ${BASIC_AUTH}" \\
--header 'Content-Type: application/x-www-form-urlencoded' \\
--data grant_type=authorization_code \\
--data-urlencode "code=$AUTH_CODE" \\
--data-urlencode "redirect_uri=$REDIRECT_URI"
"""
USERINFO_REQUEST = """curl --silent --request GET \\
--url "${ZITADEL_DOMAIN}/oidc/v1/userinfo" \\
--header "Authorization: Bearer $ACCESS_TOKEN"
"""


def _unverified(jwt_text: str) -> dict[str, Any]:
    payload = jwt_text.split(".")[1]
    loaded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return loaded


async def _set_userinfo_in_id_token(demo: Demo) -> None:
    """The guide's console checkbox "User Info inside ID Token", as a script does it through the
    management API with the first start's PAT: find the project and app, read the OIDC config,
    write it back with `idTokenUserinfoAssertion` on (spec/management-api.md §6, §7)."""
    headers = {"authorization": f"Bearer {demo.pat}"}
    async with httpx.AsyncClient(base_url=demo.issuer + "/management/v1", headers=headers) as api:
        found = await api.post("/projects/_search", json={"queries": [{"nameQuery": {
            "name": "docs-claims", "method": "TEXT_QUERY_METHOD_EQUALS"}}]})
        assert found.status_code == 200, found.text
        project_id = found.json()["result"][0]["id"]
        app_id = demo.client_id.split("@", 1)[0]
        app = await api.get(f"/projects/{project_id}/apps/{app_id}")
        assert app.status_code == 200, app.text
        config = app.json()["app"]["oidcConfig"]
        assert "idTokenUserinfoAssertion" not in config  # off: protojson omits false
        changed = await api.put(f"/projects/{project_id}/apps/{app_id}/oidc_config",
                                json={**config, "idTokenUserinfoAssertion": True})
        assert changed.status_code == 200, changed.text
        again = await api.get(f"/projects/{project_id}/apps/{app_id}")
        assert again.json()["app"]["oidcConfig"]["idTokenUserinfoAssertion"] is True


@pytest.mark.rule("seed 000: the User Metadata guide works end to end with its own commands")
async def test_the_user_metadata_guide(demo: Demo, tmp_path: Path) -> None:
    assert shutil.which("curl"), "the guide's commands need curl"
    authorize = f"{demo.issuer}/oauth/v2/authorize?" + urlencode({
        "client_id": demo.client_id, "redirect_uri": REDIRECT_URI, "response_type": "code", "scope": GUIDE_SCOPE})
    env = {**os.environ, "CLIENT_ID": demo.client_id, "CLIENT_SECRET": demo.client_secret,
           "REDIRECT_URI": REDIRECT_URI, "ZITADEL_DOMAIN": demo.issuer,
           "BASIC_AUTH": _basic_auth_like_zitadel_tools(demo.client_id, demo.client_secret)}
    async with Browser() as browser:
        callback = await browser.login(authorize, demo.login_name, demo.password)
        env["AUTH_CODE"] = parse_qs(urlsplit(callback).query)["code"][0]
        tokens = _guide_curl(env, TOKEN_REQUEST)
        assert tokens["token_type"] == "Bearer"
        env["ACCESS_TOKEN"] = tokens["access_token"]
        userinfo = _guide_curl(env, USERINFO_REQUEST)
        assert userinfo["name"] == "Road Runner"
        assert userinfo["urn:zitadel:iam:user:metadata"] == {"contract": "MTIzNA"}
        assert base64.urlsafe_b64decode("MTIzNA==") == b"1234"
        assert "name" not in _unverified(tokens["id_token"])  # the setting is still off

        await _set_userinfo_in_id_token(demo)
        callback = await browser.login(authorize, demo.login_name, demo.password)  # single sign-on now
        env["AUTH_CODE"] = parse_qs(urlsplit(callback).query)["code"][0]
        id_token = _unverified(_guide_curl(env, TOKEN_REQUEST)["id_token"])
    assert id_token["name"] == "Road Runner"
    assert id_token["urn:zitadel:iam:user:metadata"] == {"contract": "MTIzNA"}


@pytest.mark.rule("OIDC Core §3.1 with RFC 7636 and RFC 9207, as checked by panva's openid-client")
async def test_openid_client_completes_the_code_flow_with_pkce(demo: Demo) -> None:
    def node(*args: str) -> dict[str, Any]:
        result = subprocess.run(["node", str(NODE_RP), *args], capture_output=True, text=True, timeout=60,
                                check=False)
        assert result.returncode == 0, result.stderr
        loaded: dict[str, Any] = json.loads(result.stdout)
        return loaded

    start = await asyncio.to_thread(node, "start", demo.issuer, demo.client_id, demo.client_secret, REDIRECT_URI,
                                    GUIDE_SCOPE)
    async with Browser() as browser:
        callback = await browser.login(start["url"], demo.login_name, demo.password)
    done = await asyncio.to_thread(node, "finish", demo.issuer, demo.client_id, demo.client_secret, callback,
                                   start["code_verifier"], start["state"], start["nonce"])
    assert done["claims"]["nonce"] == start["nonce"]
    assert done["claims"]["iss"] == demo.issuer
    assert done["userinfo"]["urn:zitadel:iam:user:metadata"] == {"contract": "MTIzNA"}


@pytest.mark.rule("OIDC Core §3.1.3.7 ID token validation, as Authlib does it")
async def test_authlib_completes_the_code_flow_with_pkce(demo: Demo) -> None:
    from authlib.common.security import generate_token
    from authlib.integrations.httpx_client import AsyncOAuth2Client
    from authlib.jose import JsonWebKey, JsonWebToken
    from authlib.oidc.core import CodeIDToken

    async with httpx.AsyncClient() as plain:
        discovery = (await plain.get(f"{demo.issuer}/.well-known/openid-configuration")).json()
        jwks = JsonWebKey.import_key_set((await plain.get(discovery["jwks_uri"])).json())
    verifier, nonce = generate_token(48), generate_token(20)
    async with AsyncOAuth2Client(demo.client_id, demo.client_secret, scope=GUIDE_SCOPE, redirect_uri=REDIRECT_URI,
                                 code_challenge_method="S256",
                                 token_endpoint_auth_method="client_secret_basic") as rp:
        url, state = rp.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier,
                                                 nonce=nonce)
        async with Browser() as browser:
            callback = await browser.login(url, demo.login_name, demo.password)
        assert parse_qs(urlsplit(callback).query)["iss"] == [demo.issuer]
        token = await rp.fetch_token(discovery["token_endpoint"], authorization_response=callback,
                                     code_verifier=verifier, state=state)
        claims = JsonWebToken(["RS256", "ES256", "EdDSA"]).decode(
            token["id_token"], jwks, claims_cls=CodeIDToken,
            claims_options={"iss": {"essential": True, "value": demo.issuer}},
            claims_params={"nonce": nonce, "client_id": demo.client_id, "access_token": token["access_token"]})
        claims.validate(leeway=5, now=int(time.time()))
        userinfo = (await rp.get(discovery["userinfo_endpoint"])).json()
    assert claims["sub"] == userinfo["sub"]
    assert userinfo["urn:zitadel:iam:user:metadata"] == {"contract": "MTIzNA"}
