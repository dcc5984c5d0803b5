"""The v2 services' world: the management API world (tests/api/conftest.py) plus what a custom
login UI needs — its service user with the instance role IAM_LOGIN_CLIENT and a PAT, a human
user with a password, a web app on the hosted login (v1) and one whose login version is v2."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bergfried.crypto.hashing import generate_secret
from bergfried.domain.apps import Application, GrantType, OIDCConfig
from bergfried.domain.members import MemberLevel
from bergfried.domain.users import HumanUser
from bergfried.store import credentials, members
from tests.api.conftest import World, error_of, world  # noqa: F401  (the fixture is used by name)
from tests.factories import make_machine, make_project, make_user, make_web_app

PASSWORD = "Password1!"
LOGIN_UI = "https://login.example.com/ui/v2"


@dataclass
class V2:
    w: World
    login_pat: str  # PAT of the login UI's service user (IAM_LOGIN_CLIENT)
    login_user_id: str
    alice: HumanUser  # ACME, password PASSWORD
    app: Application  # hosted login (v1)
    app_v2: Application  # login version v2 with base URI LOGIN_UI
    secret: str  # both apps' client secret

    @property
    def login_name(self) -> str:
        return f"{self.alice.username}@{self.w.acme.primary_domain}"

    async def call(self, method: str, path: str, token: str | None = None, *, json: Any = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.w.call(method, path, token, json=json, headers=headers)

    async def session(self, login_name: str | None = None, password: str | None = PASSWORD) -> tuple[str, str]:
        """A session with the user (and password) checked, as the login UI creates it."""
        checks: dict[str, Any] = {"user": {"loginName": login_name or self.login_name}}
        if password is not None:
            checks["password"] = {"password": password}
        response = await self.call("POST", "/v2/sessions", self.login_pat, json={"checks": checks})
        assert response.status_code == 201, response.text
        return response.json()["sessionId"], response.json()["sessionToken"]

    async def authorize(self, app: Application, *, header: bool = False, **extra: str) -> str:
        """Start a login at /oauth/v2/authorize; returns the 302's Location."""
        params = {"client_id": app.client_id, "redirect_uri": "https://app.example.com/cb", "response_type": "code",
                  "scope": "openid profile", "state": "st4te", **extra}
        headers = {"x-zitadel-login-client": self.login_user_id} if header else {}
        response = await self.w.client.get("/oauth/v2/authorize", params=params, headers=headers)
        assert response.status_code == 302, response.text
        return response.headers["location"]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def claims_of(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


@pytest.fixture
async def v2(world: World) -> V2:  # noqa: F811
    services, store = world.services, world.services.store
    login = await make_machine(store, world.acme, "login-client")
    pat = generate_secret()
    async with store.write() as tx:
        await members.add(tx, MemberLevel.INSTANCE, world.instance.id, login.id, ["IAM_LOGIN_CLIENT"], org_id=None)
        await credentials.add_pat(tx, login, services.hasher.hash(pat))
    alice = await make_user(store, world.acme, "alice", password=PASSWORD, first_name="Alice", last_name="Liddell")
    project = await make_project(store, world.acme, "shop")
    secret = generate_secret()
    grants = (GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN)
    app = await make_web_app(store, project, "web", OIDCConfig(
        redirect_uris=("https://app.example.com/cb",), grant_types=grants), secret_hash=services.hasher.hash(secret))
    app_v2 = await make_web_app(store, project, "web-v2", OIDCConfig(
        redirect_uris=("https://app.example.com/cb",), grant_types=grants, login_v2_base_uri=LOGIN_UI),
        secret_hash=services.hasher.hash(secret))
    return V2(w=world, login_pat=pat, login_user_id=login.id, alice=alice, app=app, app_v2=app_v2, secret=secret)


__all__ = ["LOGIN_UI", "PASSWORD", "V2", "claims_of", "error_of", "query_of"]
