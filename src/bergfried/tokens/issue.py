"""Issuing tokens: access tokens (opaque or JWT, per the application), refresh tokens and ID
tokens, persisted as hashes in the caller's transaction.

- OIDC Core §2, §3.1.3.6: the ID token carries `iss`, `sub`, `aud` (an array), `exp`, `iat`,
  `auth_time`, `nonce` when one was sent, `azp`, and `at_hash` / `c_hash` when an access token or
  a code is returned beside it (§3.3.2.11: left half of the hash the signing algorithm uses).
- ZITADEL (spec/claims.md §2): `aud` = every client id of the application's project and the
  project id (and the projects of `…:aud` scopes); the app's clock skew moves `iat` and
  `auth_time` back and `exp` forward.
- Which claim goes into the ID token and the JWT access token is the matrix's decision
  (claims/matrix.py, read by claims/assemble.py); this module only supplies the token's facts.
  Opaque tokens carry nothing; a JWT's `jti` keeps a row so revocation reaches JWTs too.
- Actions add custom claims after the assembler: "pre userinfo creation" to every ID token, "pre
  access token creation" to JWT access tokens (spec/actions.md §1).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.actions.complement import complement, save_metadata
from bergfried.claims import load
from bergfried.claims import scopes as sc
from bergfried.claims.assemble import Destination, assemble
from bergfried.claims.context import ClientSettings, Context, TokenFacts, client_settings
from bergfried.claims.subject import Subject
from bergfried.crypto.hashing import generate_secret
from bergfried.domain.actions import PRE_ACCESS_TOKEN, PRE_USERINFO, Trigger
from bergfried.domain.apps import Application, GrantType
from bergfried.services import Services
from bergfried.store import instances as instance_store
from bergfried.store import tables as t
from bergfried.store import tokens as token_store
from bergfried.store.tx import Tx

ACR = "0"  # no level of assurance asserted yet (spec/README.md decision: emit `acr`)


@dataclass(frozen=True, slots=True)
class Issued:
    access_token: str | None
    expires_in: int
    refresh_token: str | None = None
    id_token: str | None = None

    def response(self) -> dict[str, Any]:
        """RFC 6749 §5.1 (ZITADEL leaves `scope` out of code and refresh answers)."""
        body: dict[str, Any] = {}
        if self.access_token:
            body.update(access_token=self.access_token, token_type="Bearer", expires_in=self.expires_in)
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        if self.id_token:
            body["id_token"] = self.id_token
        return body


def half_hash(value: str, algorithm: str) -> str:
    """`at_hash` / `c_hash`: base64url of the left half of the hash that matches the alg."""
    digest = (hashlib.sha512 if algorithm in ("EdDSA", "RS512", "ES512") else hashlib.sha256)(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


async def audience(tx: Tx, app: Application, scopes: Iterable[str] = ()) -> tuple[str, ...]:
    return await audience_for(tx.conn, app, scopes)


async def audience_for(conn: AsyncConnection, app: Application, scopes: Iterable[str] = ()) -> tuple[str, ...]:
    """Every client id of the app's project, the requesting one first, then the project id; then,
    for each `urn:zitadel:iam:org:project:id:{id}:aud` scope, that project's client ids and id, and
    for `urn:zitadel:iam:org:project:id:zitadel:aud` the instance's ZITADEL project (spec/scopes.md §5)."""
    scopes = tuple(scopes)
    projects = [app.project_id, *sc.audience_project_ids(scopes)]
    if sc.ZITADEL_AUDIENCE in scopes:
        instance = await instance_store.get(conn)
        if instance is not None and instance.zitadel_project_id:
            projects.append(instance.zitadel_project_id)
    ordered = list(dict.fromkeys(projects))
    a = t.applications
    rows = await conn.execute(sa.select(a.c.project_id, a.c.client_id).where(a.c.project_id.in_(ordered))
                              .order_by(a.c.id))  # one query however many `…:aud` scopes were sent
    clients: dict[str, list[str]] = {}
    for row in rows:
        clients.setdefault(row.project_id, []).append(row.client_id)
    out: list[str] = [app.client_id]
    for project_id in ordered:
        out.extend(clients.get(project_id, ()))
        out.append(project_id)
    return tuple(dict.fromkeys(out))


def _skew(app: Application) -> timedelta:
    return app.oidc.clock_skew if app.oidc else timedelta(0)


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """Everything one token response needs."""

    app: Application
    subject: Subject
    grant: token_store.Grant
    family_id: str
    nonce: str | None = None
    response_type: str = "code"
    code: str | None = None  # for c_hash when a code is returned beside an ID token
    with_access_token: bool = True
    refresh_family_expires_at: datetime | None = None  # keeps the absolute limit across rotations
    client: ClientSettings | None = None  # loaded with the subject, or a machine user's; else read from the app
    with_id_token: bool = True


async def issue(services: Services, tx: Tx, request: TokenRequest) -> Issued:
    settings = services.settings
    app, grant = request.app, request.grant
    lifetime = settings.access_token_lifetime
    client = request.client or await client_settings(tx.conn, app)
    base = await load.context(tx.conn, request.subject, grant.scopes, client, _facts(services, request, tx.now),
                              Destination.ACCESS_TOKEN, Destination.ID_TOKEN)
    access_token = None
    if request.with_access_token:
        access_token = await _access_token(services, tx, request, base, lifetime)
    refresh_token = None
    if (access_token and sc.OFFLINE_ACCESS in grant.scopes and app.oidc is not None
            and GrantType.REFRESH_TOKEN in app.oidc.grant_types):
        refresh_token = await _refresh_token(services, tx, request)
    id_token = None
    if sc.OPENID in grant.scopes and request.with_id_token:
        id_token = await _id_token(services, tx, request, base, access_token)
    return Issued(access_token=access_token, expires_in=int(lifetime.total_seconds()) - 1,
                  refresh_token=refresh_token, id_token=id_token)


def _facts(services: Services, request: TokenRequest, now: datetime) -> TokenFacts:
    grant = request.grant
    skew = _skew(request.app)
    return TokenFacts(
        issuer=services.settings.issuer, client_id=request.app.client_id, audience=grant.audience,
        issued_at=_ts(now - skew), expires_at=_ts(now + services.settings.id_token_lifetime + skew),
        auth_time=_ts(grant.auth_time - skew) if grant.auth_time is not None else None, amr=grant.amr,
        session_id=grant.session_id, nonce=request.nonce, actor=grant.actor, response_type=request.response_type,
        acr=ACR,
    )


async def _access_token(services: Services, tx: Tx, request: TokenRequest, base: Context,
                        lifetime: timedelta) -> str:
    grant = request.grant
    token_id = tx.new_id()
    expires = tx.now + lifetime
    is_jwt = base.client.jwt_access_token
    record = token_store.AccessTokenRecord(id=token_id, format="jwt" if is_jwt else "opaque", grant=grant,
                                           created_at=tx.now, expires_at=expires, family_id=request.family_id)
    if not is_jwt:
        token = generate_secret()
        await token_store.add_access_token(tx, record, services.hasher.hash(token))
        return token
    facts = dataclasses.replace(base.token, expires_at=_ts(expires + _skew(request.app)), token_id=token_id)
    claims = await _complemented(services, tx, PRE_ACCESS_TOKEN, dataclasses.replace(base, token=facts),
                                 Destination.ACCESS_TOKEN)
    await token_store.add_access_token(tx, record, None)
    return await services.keyring.sign(claims, typ="JWT")  # ZITADEL's header (spec/endpoints.md §8)


async def _refresh_token(services: Services, tx: Tx, request: TokenRequest) -> str:
    settings = services.settings
    token = generate_secret()
    family_expires = request.refresh_family_expires_at or tx.now + settings.refresh_token_expiration
    record = token_store.RefreshTokenRecord(
        id=tx.new_id(), family_id=request.family_id, grant=request.grant, created_at=tx.now,
        idle_expires_at=min(tx.now + settings.refresh_token_idle_expiration, family_expires),
        family_expires_at=family_expires,
    )
    await token_store.add_refresh_token(tx, record, services.hasher.hash(token))
    return token


async def _id_token(services: Services, tx: Tx, request: TokenRequest, base: Context,
                    access_token: str | None) -> str:
    algorithm = await services.keyring.current_algorithm()
    facts = dataclasses.replace(
        base.token, at_hash=half_hash(access_token, algorithm) if access_token else None,
        c_hash=half_hash(request.code, algorithm) if request.code else None,
    )
    claims = await _complemented(services, tx, PRE_USERINFO, dataclasses.replace(base, token=facts),
                                 Destination.ID_TOKEN)
    return await services.keyring.sign(claims, typ="JWT")


async def _complemented(services: Services, tx: Tx, trigger: Trigger, ctx: Context,
                        destination: Destination) -> dict[str, Any]:
    """The assembler's claims plus the actions' custom claims (actions/complement.py); metadata an
    action sets is written in the token's own transaction."""
    outcome = await complement(services, tx.conn, trigger, ctx, assemble(ctx, destination))
    await save_metadata(tx, ctx.subject.user, outcome.metadata)
    return outcome.claims
