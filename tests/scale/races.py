"""Races of 50 requests over one credential (issue 11 §2), written once and run against two
front doors on one database: two in-process apps with an engine each (SQLite and PostgreSQL), or
the two real processes A and B (PostgreSQL). The requests alternate between the two doors and are
all in flight together. Each race checks the answers (exactly one success where one is right, no
5xx) and the rows (the losers issued nothing)."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import RSAKey

from bergfried.bootstrap import bootstrap
from bergfried.claims import subject as subject_loader
from bergfried.domain.apps import Application, AppType, AuthMethodType, GrantType, OIDCConfig
from bergfried.domain.users import HumanUser
from bergfried.services import Services
from bergfried.store import auth_requests, instances
from bergfried.store import device_authorizations as device_store
from bergfried.store import projects as project_store
from bergfried.store import tables as t
from bergfried.store.tokens import Grant
from bergfried.tokens.issue import TokenRequest, audience, issue
from tests.api.conftest import member_with_pat
from tests.factories import make_org, make_web_app, unique

N = 50
TOKEN = "/oauth/v2/token"
REDIRECT = "https://app.example.com/cb"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class Arena:
    """Two doors to one database, and what the races need there."""

    doors: tuple[httpx.AsyncClient, httpx.AsyncClient]  # base_url set: requests use paths
    services: Services  # the test's own view of the same database
    user: HumanUser
    web: Application  # confidential (Basic), code + refresh, redirect REDIRECT
    web_secret: str

    def door(self, n: int) -> httpx.AsyncClient:
        return self.doors[n % 2]


async def all_at_once(count: int, request: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
                      arena: Arena) -> list[httpx.Response]:
    """`count` requests, alternating between the doors, started together."""
    answers = await asyncio.gather(*(request(arena.door(n), n) for n in range(count)))
    for answer in answers:
        assert answer.status_code < 500, answer.text
        assert "Traceback" not in answer.text
    return list(answers)


def statuses(answers: list[httpx.Response]) -> Counter[int]:
    return Counter(a.status_code for a in answers)


def errors(answers: list[httpx.Response]) -> Counter[str]:
    return Counter(a.json()["error"] for a in answers if a.status_code == 400)


async def count(services: Services, table: sa.Table, *where: Any) -> int:
    async with services.store.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table).where(*where))).scalar_one())


# --- the credentials ------------------------------------------------------------------------

async def code(arena: Arena) -> str:
    """An authorization code as the code flow makes it: the authorize request at door 0, the
    login's outcome linked as the hosted login does, and the callback at door 0."""
    http = arena.doors[0]
    answer = await http.get("/oauth/v2/authorize", params={
        "client_id": arena.web.client_id, "redirect_uri": REDIRECT, "response_type": "code",
        "scope": "openid offline_access", "state": "s1"})
    assert answer.status_code == 302, answer.text
    request_id = parse_qs(urlsplit(answer.headers["location"]).query)["authRequestID"][0]
    async with arena.services.store.write() as tx:
        session_id = tx.new_id()
        await tx.conn.execute(t.sessions.insert().values(
            id=session_id, user_id=arena.user.id, user_agent_id="ua", factors={}, metadata={},
            password_checked_at=tx.now, created_at=tx.now, changed_at=tx.now))
        assert await auth_requests.link_session(tx, request_id, session_id=session_id, user_id=arena.user.id,
                                                auth_time=tx.now, amr=["pwd"])
    callback = await http.get("/oauth/v2/authorize/callback", params={"id": request_id})
    assert callback.status_code == 302, callback.text
    return parse_qs(urlsplit(callback.headers["location"]).query)["code"][0]


async def refresh_token(arena: Arena) -> tuple[str, str]:
    """(refresh token, family id) as the token endpoint issues them."""
    services = arena.services
    async with services.store.write() as tx:
        subject = await subject_loader.load(tx.conn, arena.user.id, must_be_domain=False)
        assert subject is not None
        grant = Grant(client_id=arena.web.client_id, user_id=arena.user.id, scopes=("openid", "offline_access"),
                      audience=await audience(tx, arena.web), auth_time=tx.now, amr=("pwd",))
        family = tx.new_id()
        issued = await issue(services, tx, TokenRequest(app=arena.web, subject=subject, grant=grant, family_id=family))
    assert issued.refresh_token is not None
    return issued.refresh_token, family


async def device_app(arena: Arena) -> Application:
    async with arena.services.store.read() as conn:
        project = await project_store.find(conn, arena.web.project_id)
    assert project is not None
    return await make_web_app(arena.services.store, project, unique("tv"), OIDCConfig(
        redirect_uris=("http://localhost/cb",), app_type=AppType.NATIVE, auth_method_type=AuthMethodType.NONE,
        grant_types=(GrantType.DEVICE_CODE, GrantType.REFRESH_TOKEN)), secret_hash=None)


async def approved_device_code(arena: Arena, app: Application) -> str:
    started = await arena.doors[0].post("/oauth/v2/device_authorization",
                                        data={"client_id": app.client_id, "scope": "openid offline_access"})
    assert started.status_code == 200, started.text
    body = started.json()
    async with arena.services.store.write() as tx:
        assert await device_store.decide(tx, body["user_code"], approve=True, user_id=arena.user.id,
                                         auth_time=tx.now, amr=("pwd",))
    return str(body["device_code"])


@dataclass
class Machine:
    id: str
    owner: str  # an ORG_OWNER's PAT

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.owner}"}


async def machine(arena: Arena) -> Machine:
    """A machine user made through the management API at door 0 by an organization owner."""
    async with arena.services.store.read() as conn:
        ready = await instances.get(conn) is not None
    if not ready:
        await bootstrap(arena.services)
    org = await make_org(arena.services.store, unique("robots"))
    owner = await member_with_pat(arena.services, org, ["ORG_OWNER"])
    added = await arena.doors[0].post("/management/v1/users/machine", headers={"authorization": f"Bearer {owner}"},
                                      json={"userName": unique("svc"), "name": "Service"})
    assert added.status_code == 200, added.text
    return Machine(added.json()["userId"], owner)


async def assertion(arena: Arena, robot: Machine) -> str:
    """A JWT profile assertion from the machine's key file (AddMachineKey), one `jti`."""
    added = await arena.doors[0].post(f"/management/v1/users/{robot.id}/keys", json={"type": "KEY_TYPE_JSON"},
                                      headers=robot.headers())
    assert added.status_code == 200, added.text
    key: dict[str, Any] = json.loads(base64.b64decode(added.json()["keyDetails"]))
    now = int(arena.services.store.clock().timestamp())
    claims = {"iss": key["userId"], "sub": key["userId"], "aud": [arena.services.settings.issuer], "iat": now,
              "exp": now + 600, "jti": uuid.uuid4().hex}
    return jwt.encode({"alg": "RS256", "kid": key["keyId"]}, claims, RSAKey.import_key(key["key"]))


async def pat(arena: Arena, robot: Machine) -> tuple[str, str]:
    added = await arena.doors[0].post(f"/management/v1/users/{robot.id}/pats", json={}, headers=robot.headers())
    assert added.status_code == 200, added.text
    return added.json()["tokenId"], added.json()["token"]


# --- the races --------------------------------------------------------------------------------

async def race_code(arena: Arena) -> None:
    """RFC 6749 §4.1.2: one code, 50 redemptions → one set of tokens."""
    the_code = await code(arena)
    web = arena.web
    before = await count(arena.services, t.access_tokens, t.access_tokens.c.client_id == web.client_id)

    async def redeem(http: httpx.AsyncClient, _: int) -> httpx.Response:
        return await http.post(TOKEN, data={"grant_type": "authorization_code", "code": the_code,
                                            "redirect_uri": REDIRECT}, auth=(web.client_id, arena.web_secret))

    answers = await all_at_once(N, redeem, arena)
    assert statuses(answers) == {200: 1, 400: N - 1}, statuses(answers)
    assert set(errors(answers)) == {"invalid_grant"}
    after = await count(arena.services, t.access_tokens, t.access_tokens.c.client_id == web.client_id)
    assert after - before == 1
    refresh_rows = await count(arena.services, t.refresh_tokens, t.refresh_tokens.c.client_id == web.client_id)
    assert refresh_rows == 1  # nothing else of this app issued a refresh token
    codes = t.authorization_codes.c
    assert await count(arena.services, t.authorization_codes, codes.client_id == web.client_id,
                       codes.consumed_at.is_not(None)) == 1
    # Every loser was a second use of the code: the tokens of the winner are revoked (§4.1.2).
    winner = next(a for a in answers if a.status_code == 200).json()
    info = await arena.doors[1].get("/oidc/v1/userinfo", headers={"authorization": f"Bearer {winner['access_token']}"})
    assert info.status_code == 401
    assert await count(arena.services, t.access_tokens, t.access_tokens.c.client_id == web.client_id,
                       t.access_tokens.c.revoked_at.is_(None)) == 0


async def race_refresh(arena: Arena) -> None:
    """RFC 9700 §4.14.2: one refresh token, 50 uses → one new pair; the other uses are replays,
    so the family ends revoked (the winner's new refresh token no longer works)."""
    token, family = await refresh_token(arena)
    web = arena.web

    async def use(http: httpx.AsyncClient, _: int) -> httpx.Response:
        return await http.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": token},
                               auth=(web.client_id, arena.web_secret))

    answers = await all_at_once(N, use, arena)
    assert statuses(answers) == {200: 1, 400: N - 1}, statuses(answers)
    assert set(errors(answers)) == {"invalid_grant"}
    access = t.access_tokens.c
    assert await count(arena.services, t.access_tokens, access.family_id == family) == 2  # the first + the winner's
    refresh = t.refresh_tokens.c
    assert await count(arena.services, t.refresh_tokens, refresh.family_id == family) == 2
    assert await count(arena.services, t.refresh_tokens, refresh.family_id == family,
                       refresh.revoked_at.is_(None)) == 0  # reuse revoked the family
    winner = next(a for a in answers if a.status_code == 200).json()["refresh_token"]
    again = await arena.doors[1].post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": winner},
                                      auth=(web.client_id, arena.web_secret))
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


async def race_device_code(arena: Arena) -> None:
    """RFC 8628 §3.5: one approved device code, 50 polls → one set of tokens."""
    app = await device_app(arena)
    device_code = await approved_device_code(arena, app)

    async def poll(http: httpx.AsyncClient, _: int) -> httpx.Response:
        return await http.post(TOKEN, data={"grant_type": DEVICE_GRANT, "device_code": device_code,
                                            "client_id": app.client_id})

    answers = await all_at_once(N, poll, arena)
    assert statuses(answers) == {200: 1, 400: N - 1}, statuses(answers)
    assert set(errors(answers)) <= {"invalid_grant", "slow_down"}
    assert await count(arena.services, t.access_tokens, t.access_tokens.c.client_id == app.client_id) == 1
    assert await count(arena.services, t.refresh_tokens, t.refresh_tokens.c.client_id == app.client_id) == 1


async def race_jti(arena: Arena) -> None:
    """RFC 7523 §3 item 7: one assertion (one `jti`), 50 redemptions → one access token."""
    robot = await machine(arena)
    signed = await assertion(arena, robot)

    async def redeem(http: httpx.AsyncClient, _: int) -> httpx.Response:
        return await http.post(TOKEN, data={"grant_type": JWT_BEARER, "assertion": signed, "scope": "openid"})

    answers = await all_at_once(N, redeem, arena)
    assert statuses(answers) == {200: 1, 400: N - 1}, statuses(answers)
    assert set(errors(answers)) == {"invalid_grant"}
    assert await count(arena.services, t.access_tokens, t.access_tokens.c.user_id == robot.id) == 1


async def race_pat_revocation(arena: Arena) -> None:
    """A personal access token removed while it is used: 10 removals and 40 uses at once. One
    removal succeeds (the others: not found); a use may win or lose against it, but once the
    removal has answered, every use on either door is refused."""
    robot = await machine(arena)
    token_id, token = await pat(arena, robot)
    assert (await arena.doors[1].get("/oidc/v1/userinfo", headers={"authorization": f"Bearer {token}"})
            ).status_code == 200

    async def remove_or_use(http: httpx.AsyncClient, n: int) -> httpx.Response:
        if n % 5 == 0:
            return await http.delete(f"/management/v1/users/{robot.id}/pats/{token_id}", headers=robot.headers())
        return await http.get("/oidc/v1/userinfo", headers={"authorization": f"Bearer {token}"})

    answers = await all_at_once(N, remove_or_use, arena)
    removals = [a for n, a in enumerate(answers) if n % 5 == 0]
    uses = [a for n, a in enumerate(answers) if n % 5 != 0]
    assert statuses(removals) == {200: 1, 404: len(removals) - 1}, statuses(removals)
    assert set(statuses(uses)) <= {200, 401}
    for use in uses:
        assert use.status_code == 401 or use.json()["sub"] == robot.id
    for door in arena.doors:
        after = await door.get("/oidc/v1/userinfo", headers={"authorization": f"Bearer {token}"})
        assert (after.status_code, after.json()["error"]) == (401, "invalid_token")
    assert await count(arena.services, t.personal_access_tokens, t.personal_access_tokens.c.id == token_id) == 0
    async with arena.services.store.read() as conn:
        removed = (await conn.execute(sa.select(sa.func.count()).select_from(t.events).where(
            t.events.c.aggregate_id == robot.id,
            t.events.c.event_type == "user.personal.access.token.removed"))).scalar_one()
    assert removed == 1  # the losing removals wrote no event


RACES: dict[str, Callable[[Arena], Awaitable[None]]] = {
    "authorization code": race_code,
    "refresh token": race_refresh,
    "device code": race_device_code,
    "jwt assertion jti": race_jti,
    "personal access token removal against its use": race_pat_revocation,
}
