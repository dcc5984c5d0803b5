"""What the fault tests load a server with: an organization with an owner's PAT, a project, a
confidential application with refresh tokens, and token chains issued for a user."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from bergfried.claims import subject as subject_loader
from bergfried.crypto.hashing import generate_secret
from bergfried.domain.apps import Application, AuthMethodType, GrantType, OIDCConfig
from bergfried.domain.users import HumanUser
from bergfried.services import Services
from bergfried.store.tokens import Grant
from bergfried.tokens.issue import TokenRequest, audience, issue
from tests.api.conftest import member_with_pat
from tests.factories import make_org, make_project, make_user, make_web_app, unique

MGMT = "/management/v1"


@dataclass
class Loaded:
    services: Services
    user: HumanUser
    project_id: str
    app: Application
    secret: str
    owner: str  # ORG_OWNER's PAT

    def owner_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.owner}"}


async def build(services: Services) -> Loaded:
    store = services.store
    org = await make_org(store, unique("faults"))
    user = await make_user(store, org, unique("alice"), password=None)
    project = await make_project(store, org)
    secret = generate_secret()
    app = await make_web_app(store, project, "web", OIDCConfig(
        redirect_uris=("https://app.example.com/cb",), auth_method_type=AuthMethodType.BASIC,
        grant_types=(GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN)), secret_hash=services.hasher.hash(secret))
    owner = await member_with_pat(services, org, ["ORG_OWNER"])
    return Loaded(services, user, project.id, app, secret, owner)


async def tokens(loaded: Loaded) -> tuple[str, str]:
    """(access token, refresh token) as the token endpoint issues them."""
    services = loaded.services
    async with services.store.write() as tx:
        subject = await subject_loader.load(tx.conn, loaded.user.id, must_be_domain=False)
        assert subject is not None
        grant = Grant(client_id=loaded.app.client_id, user_id=loaded.user.id, scopes=("openid", "offline_access"),
                      audience=await audience(tx, loaded.app), auth_time=tx.now, amr=("pwd",))
        issued = await issue(services, tx, TokenRequest(app=loaded.app, subject=subject, grant=grant,
                                                        family_id=tx.new_id()))
    assert issued.access_token is not None
    assert issued.refresh_token is not None
    return issued.access_token, issued.refresh_token


@dataclass
class Load:
    """Clients that create users and applications through the management API and rotate refresh
    tokens until `stop` is set; what the server acknowledged is kept."""

    loaded: Loaded
    base_url: str
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    statuses: Counter[Any] = field(default_factory=Counter)
    users: list[str] = field(default_factory=list)  # ids of users whose creation answered 200
    apps: list[str] = field(default_factory=list)

    async def _user_creator(self, http: httpx.AsyncClient) -> None:
        while not self.stop.is_set():
            name = unique("load")
            answer = await http.post(f"{MGMT}/users/human", headers=self.loaded.owner_headers(), json={
                "userName": name, "profile": {"firstName": "Load", "lastName": "Test"},
                "email": {"email": f"{name}@example.com", "isEmailVerified": True}})
            self.statuses[answer.status_code] += 1
            if answer.status_code == 200:
                self.users.append(answer.json()["userId"])

    async def _app_creator(self, http: httpx.AsyncClient) -> None:
        while not self.stop.is_set():
            answer = await http.post(f"{MGMT}/projects/{self.loaded.project_id}/apps/oidc",
                                     headers=self.loaded.owner_headers(), json={
                                         "name": unique("app"), "redirectUris": ["https://rp.example.com/cb"],
                                         "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
                                         "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"],
                                         "appType": "OIDC_APP_TYPE_WEB",
                                         "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC"})
            self.statuses[answer.status_code] += 1
            if answer.status_code == 200:
                self.apps.append(answer.json()["appId"])

    async def _refresher(self, http: httpx.AsyncClient) -> None:
        _, refresh = await tokens(self.loaded)
        while not self.stop.is_set():
            answer = await http.post("/oauth/v2/token", data={"grant_type": "refresh_token", "refresh_token": refresh},
                                     auth=(self.loaded.app.client_id, self.loaded.secret))
            self.statuses[answer.status_code] += 1
            if answer.status_code != 200:
                return
            refresh = answer.json()["refresh_token"]

    async def _client(self, work: Any) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as http:
            try:
                await work(http)
            except httpx.TransportError as exc:  # the server died under us
                self.statuses[type(exc).__name__] += 1

    async def run(self, clients: int = 20) -> list[asyncio.Task[None]]:
        kinds = [self._user_creator, self._user_creator, self._app_creator, self._refresher, self._refresher]
        return [asyncio.create_task(self._client(kinds[n % len(kinds)])) for n in range(clients)]


async def wait_until(check: Any, deadline: float) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {deadline} s")
