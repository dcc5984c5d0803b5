"""Two real `bergfried start` processes, A and B, on one fresh PostgreSQL database: what a plain
load balancer in front of several identical processes gives. Both serve one issuer (A's URL), share
the master key, and lock a user after three wrong passwords. The pair starts once for tests/scale; each
test builds its own organization, user and applications through a test-side `Services` on the same
database, then talks HTTP to A and B only."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bergfried import services as services_module
from bergfried.crypto.hashing import generate_secret
from bergfried.domain.apps import Application, AuthMethodType, GrantType, OIDCConfig
from bergfried.domain.apps import TokenType as AccessTokenType
from bergfried.domain.orgs import Org
from bergfried.domain.users import HumanUser
from bergfried.services import Services
from tests.api.conftest import member_with_pat
from tests.conftest import MASTERKEY, make_settings
from tests.factories import make_org, make_project, make_user, make_web_app, unique
from tests.processes import Server, bergfried_server, clean_env, free_port, fresh_postgres_database

PASSWORD = "Password1!"
REDIRECT = "https://app.example.com/cb"
MAX_PASSWORD_ATTEMPTS = 3
_CSRF = re.compile(r'name="csrfToken" value="([^"]+)"')


@dataclass
class Pair:
    url: str
    a: Server
    b: Server
    tmp: Path

    @property
    def issuer(self) -> str:
        return self.a.base_url

    @property
    def servers(self) -> tuple[Server, Server]:
        return self.a, self.b


def process_env(url: str, port: int, issuer_port: int, **extra: str) -> dict[str, str]:
    return clean_env(BERGFRIED_PORT=str(port), BERGFRIED_DATABASE_URL=url, BERGFRIED_MASTERKEY=MASTERKEY,
                     BERGFRIED_EXTERNAL_URL=f"http://127.0.0.1:{issuer_port}", BERGFRIED_OUTBOX_WORKER="false",
                     BERGFRIED_LOCKOUT_MAX_PASSWORD_ATTEMPTS=str(MAX_PASSWORD_ATTEMPTS),
                     # a small pool: the shared test server has room for every helper's tests, and
                     # 25 concurrent requests per process must queue on it without a deadlock
                     BERGFRIED_DATABASE_POOL_SIZE="4", **extra)


@pytest.fixture(scope="package")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    tmp = tmp_path_factory.mktemp("pair")
    loop = asyncio.new_event_loop()
    database = fresh_postgres_database()
    try:
        url = loop.run_until_complete(database.__aenter__())
        ports = (free_port(), free_port())
        # Both start at once on the empty database: one migrates and makes the first instance, the
        # other waits for it (the migration and the bootstrap take a lock), as a rollout does.
        with bergfried_server(["start"], tmp, process_env(url, ports[0], ports[0]), ports[0], "a") as a, \
                bergfried_server(["start"], tmp, process_env(url, ports[1], ports[0]), ports[1], "b") as b:
            a.wait_ready()
            b.wait_ready()
            yield Pair(url, a, b, tmp)
            for server in (a, b):  # whatever the tests did, no request took a second connection
                assert "nested_connection" not in server.stderr() + server.stdout()
                assert "Traceback" not in server.stderr() + server.stdout()
    finally:
        loop.run_until_complete(database.__aexit__(None, None, None))
        loop.close()


@dataclass
class World:
    """One test's part of the shared database."""

    services: Services  # the test's own view of the database, as a third process
    org: Org
    user: HumanUser
    web: Application  # code + refresh, Basic secret, opaque access tokens
    web_secret: str
    jwt_app: Application  # code + refresh, Basic secret, JWT access tokens
    jwt_secret: str
    owner_pat: str  # an ORG_OWNER of `org`, for the management API

    def login_name(self, user: HumanUser | None = None) -> str:
        return f"{(user or self.user).username}@{self.org.primary_domain}"

    async def another_user(self) -> HumanUser:
        return await make_user(self.services.store, self.org, unique("user"), password=PASSWORD)


@pytest.fixture
async def world(pair: Pair, tmp_path: Path) -> AsyncIterator[World]:
    services = services_module.build(make_settings(tmp_path, database_url=pair.url, external_url=pair.issuer))
    try:
        store = services.store
        org = await make_org(store, unique("scale"))
        user = await make_user(store, org, unique("alice"), password=PASSWORD)
        project = await make_project(store, org)
        web_secret, jwt_secret = generate_secret(), generate_secret()
        grants = (GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN)
        web = await make_web_app(store, project, "web", OIDCConfig(
            redirect_uris=(REDIRECT,), grant_types=grants, auth_method_type=AuthMethodType.BASIC,
        ), secret_hash=services.hasher.hash(web_secret))
        jwt_app = await make_web_app(store, project, "jwt", OIDCConfig(
            redirect_uris=(REDIRECT,), grant_types=grants, auth_method_type=AuthMethodType.BASIC,
            access_token_type=AccessTokenType.JWT,
        ), secret_hash=services.hasher.hash(jwt_secret))
        owner = await member_with_pat(services, org, ["ORG_OWNER"])
        yield World(services, org, user, web, web_secret, jwt_app, jwt_secret, owner)
    finally:
        await services.close()


# --- the hosted login and the code flow over HTTP ------------------------------------------------

def csrf_of(page: httpx.Response) -> str:
    match = _CSRF.search(page.text)
    assert match is not None, (page.status_code, page.text[:800])
    return match.group(1)


async def authorize(http: httpx.AsyncClient, server: Server, app: Application,
                    scope: str = "openid offline_access") -> str:
    """The authorization request at `server`; returns the auth request id the login pages get."""
    answer = await http.get(f"{server.base_url}/oauth/v2/authorize", params={
        "client_id": app.client_id, "redirect_uri": REDIRECT, "response_type": "code", "scope": scope,
        "state": "s1"})
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["location"]).query)["authRequestID"][0]


async def login_name_step(http: httpx.AsyncClient, server: Server, request_id: str,
                          login_name: str) -> httpx.Response:
    """The login-name page and its POST at `server`; returns the password page."""
    first = await http.get(f"{server.base_url}/ui/login/login", params={"authRequestID": request_id})
    assert first.status_code == 200, first.text
    return await http.post(f"{server.base_url}/ui/login/loginname", data={
        "authRequestID": request_id, "csrfToken": csrf_of(first), "loginName": login_name})


async def password_step(http: httpx.AsyncClient, server: Server, request_id: str, page: httpx.Response,
                        login_name: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post(f"{server.base_url}/ui/login/password", data={
        "authRequestID": request_id, "csrfToken": csrf_of(page), "loginName": login_name, "password": password})


async def code_from_callback(http: httpx.AsyncClient, server: Server, done: httpx.Response) -> str:
    """Follow the login's redirect to the callback at `server`; returns the code for the client."""
    assert done.status_code in (302, 303), (done.status_code, done.text[:800])
    location = urlsplit(done.headers["location"])
    assert location.path == "/oauth/v2/authorize/callback", done.headers["location"]
    answer = await http.get(f"{server.base_url}{location.path}?{location.query}")
    assert answer.status_code == 302, answer.text
    final = urlsplit(answer.headers["location"])
    assert f"{final.scheme}://{final.netloc}{final.path}" == REDIRECT
    query = parse_qs(final.query)
    assert query["state"] == ["s1"]
    return query["code"][0]


async def code_via(world: World, app: Application, first: Server, second: Server,
                   scope: str = "openid offline_access") -> str:
    """A whole login as one browser: authorize and login name at `first`, password and the callback
    at `second`."""
    async with httpx.AsyncClient(timeout=30) as browser:
        request_id = await authorize(browser, first, app, scope)
        page = await login_name_step(browser, first, request_id, world.login_name())
        assert page.status_code == 200, page.text
        done = await password_step(browser, second, request_id, page, world.login_name())
        return await code_from_callback(browser, second, done)


def secret_of(world: World, app: Application) -> str:
    return world.web_secret if app.client_id == world.web.client_id else world.jwt_secret


async def redeem(http: httpx.AsyncClient, server: Server, world: World, app: Application,
                 code: str) -> httpx.Response:
    return await http.post(f"{server.base_url}/oauth/v2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=(app.client_id, secret_of(world, app)))


async def refresh(http: httpx.AsyncClient, server: Server, world: World, app: Application,
                  token: str) -> httpx.Response:
    return await http.post(f"{server.base_url}/oauth/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": token}, auth=(app.client_id, secret_of(world, app)))


async def introspect(http: httpx.AsyncClient, server: Server, world: World, token: str) -> dict[str, object]:
    answer = await http.post(f"{server.base_url}/oauth/v2/introspect", data={"token": token},
                             auth=(world.web.client_id, world.web_secret))
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body
