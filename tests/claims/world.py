"""One world for the claims tests, built once per module and engine, and the real HTTP flow that
turns a scenario (client, scope, response type, nonce) into the four payloads the matrix speaks of:
the userinfo answer, the introspection answer, the decoded ID token and the decoded JWT access token.

The user `road.runner` of ACME is spec/claims.md §5's user: every profile, e-mail and phone claim
set, metadata `contract = 1234`, roles on project A from two organizations (a direct grant by
ACME, and one through ACME's project grant to Partner), and a role on project B, whose "Assert
Roles on Authentication" is on."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from bergfried import services as services_module
from bergfried.claims import scopes as sc
from bergfried.claims.matrix import Destination
from bergfried.crypto.hashing import generate_secret
from bergfried.domain.apps import ApiAuthMethodType, Application, AuthMethodType, GrantType, OIDCConfig, ResponseType
from bergfried.domain.apps import TokenType as AccessTokenType
from bergfried.domain.metadata import Metadata
from bergfried.domain.orgs import Org
from bergfried.domain.projects import Project, ProjectRole
from bergfried.domain.users import Address, Gender, HumanUser, Profile
from bergfried.services import Services
from bergfried.store import apps, auth_requests, grants, metadata, orgs, projects, users
from bergfried.store import tables as t
from bergfried.store.migrate import migrate
from bergfried.web.app import create_app
from tests.conftest import Database, make_settings
from tests.factories import make_org
from tests.web.conftest import serving

REDIRECT = "https://app.example.com/cb"


@dataclass(frozen=True)
class Scenario:
    app: str  # plain | full | bare | asserting
    scope: str  # all | openid | a literal scope string
    response_type: str = "code"
    nonce: bool = True

    def __str__(self) -> str:
        return f"{self.app}/{self.scope}/{self.response_type.replace(' ', '+')}/{'nonce' if self.nonce else 'no-nonce'}"


@dataclass
class Client:
    app: Application
    secret: str
    api: Application
    api_secret: str


@dataclass
class Payloads:
    by_destination: dict[Destination, dict[str, Any]]
    access_token: str | None


@dataclass
class World:
    client: httpx.AsyncClient
    services: Services
    user: HumanUser
    acme: Org
    partner: Org
    project_a: Project
    project_b: Project
    clients: dict[str, Client]
    cache: dict[Scenario, Payloads] = field(default_factory=dict)

    def scope(self, name: str) -> str:
        if name == "openid":
            return "openid"
        if name != "all":
            return name
        return " ".join([
            "openid profile email phone address offline_access", sc.METADATA, sc.RESOURCEOWNER,
            f"{sc.ROLE_PREFIX}admin", f"{sc.ROLE_PREFIX}user", sc.PROJECTS_ROLES,
            f"{sc.PROJECT_ID_PREFIX}{self.project_b.id}:aud",
            f"{sc.ORG_ID_PREFIX}{self.acme.id}", f"{sc.ORG_DOMAIN_PREFIX}{self.acme.primary_domain}",
        ])

    async def payloads(self, scenario: Scenario) -> Payloads:
        if scenario not in self.cache:
            self.cache[scenario] = await run(self, scenario)
        return self.cache[scenario]

    async def payload(self, scenario: Scenario, destination: Destination) -> dict[str, Any]:
        return (await self.payloads(scenario)).by_destination[destination]


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    return {"authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def decode(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def authorize(world: World, scenario: Scenario) -> str:
    """Authorize, log in (the session the hosted login leaves), and return the callback's redirect."""
    client = world.clients[scenario.app]
    params = {"client_id": client.app.client_id, "redirect_uri": REDIRECT, "response_type": scenario.response_type,
              "scope": world.scope(scenario.scope), "state": "s1"}
    if scenario.nonce:
        params["nonce"] = "n-0S6_WzA2Mj"
    response = await world.client.get("/oauth/v2/authorize", params=params)
    assert response.status_code == 302, response.text
    request_id = response.headers["location"].split("authRequestID=", 1)[1]
    await link(world, request_id)
    answered = await world.client.get(f"/oauth/v2/authorize/callback?id={request_id}")
    assert answered.status_code == 302, answered.text
    return str(answered.headers["location"])


async def link(world: World, request_id: str) -> None:
    async with world.services.store.write() as tx:
        session_id = tx.new_id()
        await tx.conn.execute(t.sessions.insert().values(
            id=session_id, user_id=world.user.id, user_agent_id="ua", factors={}, metadata={},
            password_checked_at=tx.now, created_at=tx.now, changed_at=tx.now))
        assert await auth_requests.link_session(tx, request_id, session_id=session_id, user_id=world.user.id,
                                                auth_time=tx.now, amr=["pwd"])


async def run(world: World, scenario: Scenario) -> Payloads:
    client = world.clients[scenario.app]
    location = await authorize(world, scenario)
    parts = urlsplit(location)
    answer = {k: v[0] for k, v in parse_qs(parts.fragment if scenario.response_type != "code" else parts.query).items()}
    assert "error" not in answer, answer
    if scenario.response_type == "code":
        response = await world.client.post("/oauth/v2/token", headers=basic(client.app.client_id, client.secret), data={
            "grant_type": "authorization_code", "code": answer["code"], "redirect_uri": REDIRECT})
        assert response.status_code == 200, response.text
        answer = response.json()
    out: dict[Destination, dict[str, Any]] = {d: {} for d in Destination}
    if "id_token" in answer:
        await world.services.keyring.verify(answer["id_token"])
        out[Destination.ID_TOKEN] = decode(answer["id_token"])
    token = answer.get("access_token")
    if token:
        if token.count(".") == 2:
            await world.services.keyring.verify(token)
            out[Destination.ACCESS_TOKEN] = decode(token)
        userinfo = await world.client.get("/oidc/v1/userinfo", headers={"authorization": f"Bearer {token}"})
        assert userinfo.status_code == 200, userinfo.text
        out[Destination.USERINFO] = userinfo.json()
        introspection = await world.client.post("/oauth/v2/introspect", data={"token": token},
                                                headers=basic(client.api.client_id, client.api_secret))
        assert introspection.status_code == 200, introspection.text
        out[Destination.INTROSPECTION] = introspection.json()
        assert out[Destination.INTROSPECTION]["active"] is True
    return Payloads(out, token)


async def _client(services: Services, project: Project, name: str, config: OIDCConfig, api: tuple[Application, str]
                  ) -> Client:
    secret = generate_secret()
    async with services.store.write() as tx:
        app, _ = await apps.add_oidc(tx, project, name, config, secret_hash=services.hasher.hash(secret))
    return Client(app, secret, *api)


async def _api(services: Services, project: Project) -> tuple[Application, str]:
    secret = generate_secret()
    async with services.store.write() as tx:
        app, _ = await apps.add_api(tx, project, "api", ApiAuthMethodType.BASIC,
                                    secret_hash=services.hasher.hash(secret))
    return app, secret


def _config(**settings: Any) -> OIDCConfig:
    return OIDCConfig(
        redirect_uris=(REDIRECT,), auth_method_type=AuthMethodType.BASIC,
        grant_types=(GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN, GrantType.IMPLICIT),
        response_types=(ResponseType.CODE, ResponseType.ID_TOKEN, ResponseType.ID_TOKEN_TOKEN), **settings)


async def _project(services: Services, org: Org, name: str, roles: tuple[str, ...], **flags: bool) -> Project:
    async with services.store.write() as tx:
        project, _ = await projects.create(tx, org.id, name, **flags)
        await projects.add_roles(tx, project, [ProjectRole(project.id, key, key.title()) for key in roles])
    return project


async def build(services: Services) -> tuple[HumanUser, Org, Org, Project, Project, dict[str, Client]]:
    store = services.store
    await services.keyring.ensure_key("RS256")
    acme = await make_org(store, "ACME")
    partner = await make_org(store, "Partner")
    async with store.write() as tx:
        user, _ = await users.create_human(
            tx, acme.id, "road.runner",
            Profile(first_name="Road", last_name="Runner", nick_name="roadie", display_name="Road Runner",
                    preferred_language="en", gender=Gender.DIVERSE),
            "road.runner@acme.ch", email_verified=True, phone="+41791234567", phone_verified=True,
            address=Address(street_address="Lerchenfeldstrasse 3", locality="St. Gallen", postal_code="9014",
                            country="CH"))
        await metadata.set_many(tx, user, [Metadata("contract", b"1234")])
    project_a = await _project(services, acme, "claims", ("admin", "user"))
    project_b = await _project(services, acme, "asserting", ("viewer",), project_role_assertion=True)
    async with store.write() as tx:
        await grants.add_user_grant(tx, user, project_a, ["admin", "user"])
        project_grant, _ = await grants.add_project_grant(tx, project_a, partner.id, ["user"])
        await grants.add_user_grant(tx, user, project_a, ["user"], project_grant_id=project_grant.id)
        await grants.add_user_grant(tx, user, project_b, ["viewer"])
    api_a, api_b = await _api(services, project_a), await _api(services, project_b)
    clients = {
        "plain": await _client(services, project_a, "plain", _config(), api_a),
        "full": await _client(services, project_a, "full", _config(
            access_token_type=AccessTokenType.JWT, id_token_userinfo_assertion=True, id_token_role_assertion=True,
            access_token_role_assertion=True), api_a),
        "bare": await _client(services, project_a, "bare", _config(access_token_type=AccessTokenType.JWT), api_a),
        "asserting": await _client(services, project_b, "asserting", _config(
            access_token_type=AccessTokenType.JWT, id_token_role_assertion=True, access_token_role_assertion=True),
            api_b),
    }
    async with store.read() as conn:
        acme = await orgs.get(conn, acme.id)
    return user, acme, partner, project_a, project_b, clients


async def open_world(kind: str, tmp_path: Path) -> AsyncIterator[World]:
    database = Database(kind, tmp_path)
    await database.create()
    engine = database.engine()
    try:
        await migrate(engine)
        services = services_module.build(make_settings(tmp_path), engine=engine)
        user, acme, partner, project_a, project_b, clients = await build(services)
        async with serving(create_app(services.settings, prebuilt=services)) as client:
            yield World(client, services, user, acme, partner, project_a, project_b, clients)
    finally:
        await engine.dispose()
        await database.drop()
