"""Setup for the tests of the endpoints that act on issued tokens (userinfo, introspection,
revocation, end_session, token lookup): one organization with a user whose metadata is seed 000's
`contract = 1234`, a project with a confidential web app (opaque tokens), a JWT app, a public app
and an API app, a second project for "foreign" callers, and a clock the test can move. Tokens are
issued with the real issuer (`bergfried.tokens.issue.issue`), not through the browser flow."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from joserfc import jws
from joserfc.jwk import RSAKey
from sqlalchemy.ext.asyncio import AsyncEngine

from bergfried import services as services_module
from bergfried.claims import subject as subject_loader
from bergfried.crypto.hashing import generate_secret
from bergfried.domain.apps import ApiAuthMethodType, Application, AppType, AuthMethodType, GrantType, OIDCConfig
from bergfried.domain.apps import TokenType as AccessTokenType
from bergfried.domain.metadata import Metadata
from bergfried.domain.users import HumanUser
from bergfried.services import Services
from bergfried.store import apps, metadata
from bergfried.store import sessions as session_store
from bergfried.store.tokens import Grant
from bergfried.store.tx import Store
from bergfried.tokens.issue import Issued, TokenRequest, audience, issue
from bergfried.web.app import create_app
from tests.conftest import Database, make_settings
from tests.factories import make_org, make_project, make_user, make_web_app
from tests.web.conftest import serving

LOGOUT_URI = "https://app.example.com/logged-out"
METADATA_SCOPE = "urn:zitadel:iam:user:metadata"


class MovableClock:
    """The store's clock: real time plus however far a test moved it."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


@dataclass
class Resources:
    client: httpx.AsyncClient
    services: Services
    clock: MovableClock
    user: HumanUser
    web: Application  # confidential, Basic secret, opaque access tokens, refresh tokens
    web_secret: str
    jwt_app: Application  # confidential, Basic secret, JWT access tokens
    jwt_secret: str
    public: Application  # user agent, no secret
    api: Application  # API app of the same project, Basic secret
    api_secret: str
    foreign_api: Application  # API app of another project
    foreign_secret: str


def basic(client_id: str, secret: str) -> dict[str, str]:
    """RFC 6749 §2.3.1: form-URL-encode each half, then base64."""
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    return {"authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def _api_app(services: Services, project_name: str) -> tuple[Application, str]:
    store = services.store
    org = await make_org(store)
    project = await make_project(store, org, project_name)
    secret = generate_secret()
    async with store.write() as tx:
        app, _ = await apps.add_api(tx, project, "api", ApiAuthMethodType.BASIC,
                                    secret_hash=services.hasher.hash(secret))
    return app, secret


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def movable_services(engine: AsyncEngine, tmp_path: Path, clock: MovableClock) -> Services:
    built = services_module.build(make_settings(tmp_path), engine=engine)
    return dataclasses.replace(built, store=Store(engine, clock=clock))


@pytest.fixture
async def res(movable_services: Services, clock: MovableClock) -> AsyncIterator[Resources]:
    services = movable_services
    await services.keyring.ensure_key("RS256")
    store = services.store
    org = await make_org(store, "ACME")
    user = await make_user(store, org, "road.runner", password=None)
    async with store.write() as tx:
        await metadata.set_many(tx, user, [Metadata("contract", b"1234")])
    project = await make_project(store, org, "docs-claims")
    web_secret, jwt_secret = generate_secret(), generate_secret()
    web = await make_web_app(store, project, "web", OIDCConfig(
        redirect_uris=("https://app.example.com/cb",), post_logout_redirect_uris=(LOGOUT_URI,),
        grant_types=(GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN),
        auth_method_type=AuthMethodType.BASIC,
    ), secret_hash=services.hasher.hash(web_secret))
    jwt_app = await make_web_app(store, project, "jwt", OIDCConfig(
        redirect_uris=("https://jwt.example.com/cb",), auth_method_type=AuthMethodType.BASIC,
        access_token_type=AccessTokenType.JWT,
        post_logout_redirect_uris=("https://jwt.example.com/bye?from=op",),
    ), secret_hash=services.hasher.hash(jwt_secret))
    public = await make_web_app(store, project, "spa", OIDCConfig(
        redirect_uris=("https://spa.example.com/cb",), app_type=AppType.USER_AGENT,
        auth_method_type=AuthMethodType.NONE,
    ), secret_hash=None)
    api_secret = generate_secret()
    async with store.write() as tx:
        api, _ = await apps.add_api(tx, project, "api", ApiAuthMethodType.BASIC,
                                    secret_hash=services.hasher.hash(api_secret))
    foreign_api, foreign_secret = await _api_app(services, "elsewhere")
    async with serving(create_app(services.settings, prebuilt=services)) as client:
        yield Resources(client, services, clock, user, web, web_secret, jwt_app, jwt_secret, public, api, api_secret,
                        foreign_api, foreign_secret)


async def new_session(res: Resources, user_agent_id: str | None = None) -> str:
    """A login session as the hosted login leaves it after a password check."""
    async with res.services.store.write() as tx:
        session = await session_store.create(tx, res.user.id, user_agent_id, org_id=res.user.org_id,
                                             password_checked_at=tx.now)
    return session.id


async def issue_tokens(res: Resources, app: Application, scope: str = "openid", *,
                       session_id: str | None = None, family_id: str | None = None) -> Issued:
    """Tokens for the user as the token endpoint would issue them after a login."""
    services = res.services
    async with services.store.write() as tx:
        subject = await subject_loader.load(tx.conn, res.user.id,
                                            must_be_domain=services.policies.domain.user_login_must_be_domain)
        assert subject is not None
        grant = Grant(client_id=app.client_id, user_id=res.user.id, scopes=tuple(scope.split()),
                      audience=await audience(tx, app), session_id=session_id, auth_time=tx.now, amr=("pwd",))
        return await issue(services, tx, TokenRequest(app=app, subject=subject, grant=grant,
                                                      family_id=family_id or tx.new_id()))


async def access_token(res: Resources, app: Application, scope: str = "openid", **kwargs: str | None) -> str:
    issued = await issue_tokens(res, app, scope, **kwargs)
    assert issued.access_token is not None
    return issued.access_token


async def other_process(database: Database, tmp_path: Path) -> tuple[Services, AsyncEngine]:
    """Services over a second engine on the same database: what another worker process sees."""
    engine = database.engine()
    return services_module.build(make_settings(tmp_path / "other"), engine=engine), engine


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a JWS, read without checking anything."""
    header, payload, _ = token.split(".")
    return (json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))),
            json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def unsigned(token: str) -> str:
    """The same claims under `alg: none` and an empty signature (RFC 8725 §2.1)."""
    header, claims = unverified(token)
    return f"{_b64({**header, 'alg': 'none'})}.{_b64(claims)}."


def resigned(token: str, **changes: Any) -> str:
    """The same header (our `kid`) and claims, signed by a key that is not ours."""
    header, claims = unverified(token)
    return jws.serialize_compact(header, json.dumps({**claims, **changes}).encode(), RSAKey.generate_key(2048))
