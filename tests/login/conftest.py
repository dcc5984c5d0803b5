"""The hosted login through the ASGI app, on SQLite and PostgreSQL.

Auth requests are stored directly (what `/oauth/v2/authorize` does), then the test walks the
pages as a browser would: one httpx client is one browser (it keeps the user-agent cookie).
Settings a test needs (lockout, ignoreUnknownUsernames, https) come through the `overrides`
fixture, which a test replaces with `@pytest.mark.parametrize("overrides", [{...}])`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bergfried import services as services_module
from bergfried.domain.apps import Application
from bergfried.domain.auth_requests import AuthRequest
from bergfried.domain.orgs import Org
from bergfried.domain.users import HumanUser
from bergfried.services import Services
from bergfried.store import auth_requests
from bergfried.web.app import create_app
from tests.conftest import make_settings
from tests.factories import make_org, make_project, make_user, make_web_app

PASSWORD = "Password1!"
CALLBACK = "/oauth/v2/authorize/callback"
_CSRF = re.compile(r'name="csrfToken" value="([^"]+)"')
_ERROR = re.compile(r'<p id="(?:loginName|password)-error" class="error" role="alert">([^<]*)</p>')


@dataclass
class World:
    services: Services
    client: httpx.AsyncClient
    org: Org
    user: HumanUser
    app: Application
    base_url: str
    transport: httpx.ASGITransport
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def store(self) -> Any:
        return self.services.store

    def login_name(self, user: HumanUser | None = None) -> str:
        return f"{(user or self.user).username}@{self.org.primary_domain}"

    async def auth_request(self, *, created_at: datetime | None = None, **fields: Any) -> str:
        """Store an auth request as the authorize endpoint does; returns its id."""
        async with self.store.write() as tx:
            request_id = tx.new_id()
            created = created_at or tx.now
            fields.setdefault("scopes", ("openid", "profile"))
            await auth_requests.create(tx, AuthRequest(
                id=request_id, client_id=self.app.client_id, redirect_uri="https://app.example.com/cb",
                response_type="code", created_at=created,
                expires_at=created + timedelta(minutes=30), state="st", **fields,
            ))
        return str(request_id)

    async def load(self, request_id: str) -> AuthRequest:
        async with self.store.read() as conn:
            found = await auth_requests.get(conn, request_id)
        assert found is not None
        return found

    def browser(self) -> httpx.AsyncClient:
        """Another browser on the same app (its own cookie jar)."""
        other = httpx.AsyncClient(transport=self.transport, base_url=self.base_url)
        self.clients.append(other)
        return other


@pytest.fixture
def overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def world(engine: AsyncEngine, tmp_path: Path, overrides: dict[str, Any]) -> AsyncIterator[World]:
    settings = make_settings(tmp_path, **overrides)
    services = services_module.build(settings, engine=engine)
    org = await make_org(services.store, "ACME")
    user = await make_user(services.store, org, "alice", password=PASSWORD, first_name="Alice", last_name="Liddell")
    project = await make_project(services.store, org)
    app = await make_web_app(services.store, project, "web")
    base_url = "https://testserver" if settings.is_https else "http://testserver"
    web = create_app(settings, prebuilt=services)
    async with web.router.lifespan_context(web):
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            world = World(services, client, org, user, app, base_url, transport)
            try:
                yield world
            finally:
                for other in world.clients:
                    await other.aclose()


def csrf_of(response: httpx.Response) -> str:
    match = _CSRF.search(response.text)
    assert match is not None, response.text
    return match.group(1)


def error_of(response: httpx.Response) -> str | None:
    match = _ERROR.search(response.text)
    return match.group(1) if match else None


def callback_id(response: httpx.Response) -> str:
    """The auth request id of a redirect to the callback (fails on anything else)."""
    assert response.status_code in (302, 303), (response.status_code, response.text[:500])
    location = urlsplit(response.headers["location"])
    assert location.path == CALLBACK
    return parse_qs(location.query)["id"][0]


async def start(client: httpx.AsyncClient, request_id: str, **headers: str) -> httpx.Response:
    return await client.get("/ui/login/login", params={"authRequestID": request_id}, headers=headers)


async def post_form(client: httpx.AsyncClient, path: str, page: httpx.Response, request_id: str,
                    **fields: str) -> httpx.Response:
    """Submit a form of `page` the way the browser would: with the page's CSRF token."""
    data = {"authRequestID": request_id, "csrfToken": csrf_of(page), **fields}
    return await client.post(path, data=data)


async def sign_in(client: httpx.AsyncClient, request_id: str, login_name: str,
                  password: str = PASSWORD) -> httpx.Response:
    """Login-name page, then password page; returns the answer to the password POST."""
    first = await start(client, request_id)
    assert first.status_code == 200, first.text
    named = await post_form(client, "/ui/login/loginname", first, request_id, loginName=login_name)
    assert named.status_code == 200, named.text
    assert 'autocomplete="current-password"' in named.text
    return await post_form(client, "/ui/login/password", named, request_id, loginName=login_name,
                           password=password)
