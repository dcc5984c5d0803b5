"""Issuing tokens: access tokens (opaque or JWT, per the application), refresh tokens and ID
tokens, persisted as hashes in the caller's transaction.

- OIDC Core §2, §3.1.3.6: the ID token carries `iss`, `sub`, `aud` (an array), `exp`, `iat`,
  `auth_time`, `nonce` when one was sent, `azp`, and `at_hash` / `c_hash` when an access token or
  a code is returned beside it (§3.3.2.11: left half of the hash the signing algorithm uses).
- ZITADEL (spec/claims.md §2): `aud` = every client id of the application's project and the
  project id; `amr`, `sid`, `client_id` in the ID token; the app's clock skew moves `iat` and
  `auth_time` back and `exp` forward.
- RFC 9068 shape for JWT access tokens as ZITADEL makes them: `iss`, `sub`, `aud`, `exp`, `iat`,
  `nbf`, `client_id`, `jti` (and `azp`, Bergfried's addition). Opaque tokens carry nothing; a
  JWT's `jti` keeps a row so revocation reaches JWTs too.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bergfried.claims import scopes as sc
from bergfried.claims.assemble import Destination, Request, user_claims
from bergfried.claims.subject import Subject
from bergfried.crypto.hashing import generate_secret
from bergfried.domain.apps import Application, GrantType, TokenType
from bergfried.services import Services
from bergfried.store import apps as app_store
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


async def audience(tx: Tx, app: Application) -> tuple[str, ...]:
    """Every client id of the app's project, the requesting one first, then the project id."""
    others = [a.client_id for a in await app_store.list_for_project(tx.conn, app.project_id)
              if a.client_id != app.client_id]
    return (app.client_id, *others, app.project_id)


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


async def issue(services: Services, tx: Tx, request: TokenRequest) -> Issued:
    settings = services.settings
    app, grant = request.app, request.grant
    lifetime = settings.access_token_lifetime
    access_token = None
    if request.with_access_token:
        access_token = await _access_token(services, tx, request, lifetime)
    refresh_token = None
    if (access_token and sc.OFFLINE_ACCESS in grant.scopes and app.oidc is not None
            and GrantType.REFRESH_TOKEN in app.oidc.grant_types):
        refresh_token = await _refresh_token(services, tx, request)
    id_token = None
    if sc.OPENID in grant.scopes:
        id_token = await _id_token(services, tx, request, access_token)
    return Issued(access_token=access_token, expires_in=int(lifetime.total_seconds()) - 1,
                  refresh_token=refresh_token, id_token=id_token)


async def _access_token(services: Services, tx: Tx, request: TokenRequest, lifetime: timedelta) -> str:
    app, grant = request.app, request.grant
    token_id = tx.new_id()
    expires = tx.now + lifetime
    is_jwt = app.oidc is not None and app.oidc.access_token_type == TokenType.JWT
    record = token_store.AccessTokenRecord(id=token_id, format="jwt" if is_jwt else "opaque", grant=grant,
                                           created_at=tx.now, expires_at=expires, family_id=request.family_id)
    if not is_jwt:
        token = generate_secret()
        await token_store.add_access_token(tx, record, services.hasher.hash(token))
        return token
    skew = _skew(app)
    claims: dict[str, Any] = {
        "iss": services.settings.issuer, "sub": grant.user_id, "aud": list(grant.audience),
        "exp": _ts(expires + skew), "iat": _ts(tx.now - skew), "nbf": _ts(tx.now - skew),
        "client_id": app.client_id, "azp": app.client_id, "jti": token_id,
    }
    if grant.actor:
        claims["act"] = grant.actor
    user = user_claims(request.subject, Request(scopes=grant.scopes), Destination.ACCESS_TOKEN)
    await token_store.add_access_token(tx, record, None)
    return await services.keyring.sign({**user, **claims}, typ="JWT")  # ZITADEL's header (spec/endpoints.md §8)


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


async def _id_token(services: Services, tx: Tx, request: TokenRequest, access_token: str | None) -> str:
    app, grant = request.app, request.grant
    skew = _skew(app)
    algorithm = await services.keyring.current_algorithm()
    assertion = app.oidc.id_token_userinfo_assertion if app.oidc else False
    claims = user_claims(request.subject, Request(scopes=grant.scopes, id_token_userinfo_assertion=assertion,
                                                  response_type=request.response_type), Destination.ID_TOKEN)
    claims.update({
        "iss": services.settings.issuer, "aud": list(grant.audience),
        "exp": _ts(tx.now + services.settings.id_token_lifetime + skew), "iat": _ts(tx.now - skew),
        "azp": app.client_id, "client_id": app.client_id, "acr": ACR,
    })
    if grant.auth_time is not None:
        claims["auth_time"] = _ts(grant.auth_time - skew)
    if grant.amr:
        claims["amr"] = list(grant.amr)
    if grant.session_id:
        claims["sid"] = grant.session_id
    if request.nonce:
        claims["nonce"] = request.nonce
    if access_token:
        claims["at_hash"] = half_hash(access_token, algorithm)
    if request.code:
        claims["c_hash"] = half_hash(request.code, algorithm)
    if grant.actor:
        claims["act"] = grant.actor
    return await services.keyring.sign(claims, typ="JWT")
