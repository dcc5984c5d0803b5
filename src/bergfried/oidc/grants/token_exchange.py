"""`grant_type=urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693) as ZITADEL does it
(spec/token-exchange.md; zitadel `internal/api/oidc/token_exchange.go`, oidc `tokenExchangeHandler`).

- Off unless the instance feature `oidcTokenExchange` is on (`invalid_request`
  "Errors.TokenExchange.FeatureDisabled").
- Subject token types: access token (ours, opaque or JWT, live; or a personal access token), ID
  token (ours, not expired), a JWT signed with one of the requesting app's keys (`aud` names the
  issuer, `iat` at most 1 h old, `exp` ahead, the app's clock skew; `sub` the user, `iss` free) and
  ZITADEL's user id type (an existing user). The last two only with an actor.
- Plain exchange (no actor): the new token is the subject's, with its `auth_time`, `amr` and `act`.
  Impersonation (an actor token, or a user id subject): the instance security setting
  `enableImpersonation` must be on (403), the actor token must be an access or ID token of ours,
  and the actor must hold the permission `impersonation` in the subject's organization (403);
  `auth_time`/`amr` come from the actor and `act` = `{iss, sub: actor, act?: actor's act}`. The
  claims assembler emits it (matrix row `act`) in the ID token, the JWT access token and
  introspection.
- Requested types: access token (default, always opaque), JWT (a JWT access token), ID token (in
  `access_token`, `token_type` `N_A`, no `at_hash`).
- `audience` values must be in the subject's or actor's audience (`invalid_target`); empty →
  the subject's, else the actor's. `scope` empty → the subject's, else the actor's; filtered like
  authorize. `resource` is refused (`invalid_target`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.claims import load
from bergfried.claims import scopes as sc
from bergfried.claims import subject as subject_loader
from bergfried.claims.assemble import Destination
from bergfried.claims.context import client_settings
from bergfried.claims.subject import Subject
from bergfried.domain.apps import Application, GrantType
from bergfried.domain.members import ROLE_PERMISSIONS
from bergfried.errors import InvalidRequest, InvalidToken, OAuthError
from bergfried.oidc import client_auth
from bergfried.services import Services
from bergfried.store import app_keys, credentials, members, projects
from bergfried.store import instances as instance_store
from bergfried.store.tokens import Grant
from bergfried.store.tx import Tx
from bergfried.tokens import issue as issuing
from bergfried.tokens.issue import Issued, TokenRequest
from bergfried.tokens.lookup import find_access_token, well_formed

ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
JWT = "urn:ietf:params:oauth:token-type:jwt"
REFRESH_TOKEN = "urn:ietf:params:oauth:token-type:refresh_token"
USER_ID = "urn:zitadel:params:oauth:token-type:user_id"
TOKEN_TYPES = frozenset({ACCESS_TOKEN, ID_TOKEN, JWT, REFRESH_TOKEN, USER_ID})  # what the library knows
IMPERSONATION = "impersonation"
MAX_JWT_AGE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Exchanged(Issued):
    """RFC 8693 §2.2.1 (oidc `TokenExchangeResponse`): `issued_token_type` and `scope` always;
    `token_type` `N_A` when the issued token is an ID token."""

    token_type: str = "Bearer"
    issued_token_type: str = ACCESS_TOKEN
    scope: str = ""

    def response(self) -> dict[str, Any]:
        body = {"access_token": self.access_token, "issued_token_type": self.issued_token_type,
                "token_type": self.token_type, "expires_in": self.expires_in, "scope": self.scope}
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        if self.id_token:
            body["id_token"] = self.id_token
        return body


class InvalidTarget(OAuthError):
    """RFC 8693 §2.2.2."""

    code = "invalid_target"


@dataclass(frozen=True, slots=True)
class Presented:
    """What a verified subject or actor token stands for."""

    user_id: str
    scopes: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    auth_time: datetime | None = None
    amr: tuple[str, ...] = ()
    actor: dict[str, Any] | None = None


def _check_form(form: Mapping[str, str]) -> tuple[str, str, str | None, str | None, str]:
    """The library's checks (oidc `ParseTokenExchangeRequest`, spec §2)."""
    subject_token, subject_type = form.get("subject_token"), form.get("subject_token_type")
    if not subject_token:
        raise InvalidRequest("subject_token missing")
    if not subject_type:
        raise InvalidRequest("subject_token_type missing")
    if subject_type not in TOKEN_TYPES:
        raise InvalidRequest("subject_token_type is not supported")
    actor_token, actor_type = form.get("actor_token") or None, form.get("actor_token_type") or None
    if actor_token and actor_type not in TOKEN_TYPES:
        raise InvalidRequest("actor_token_type is not supported")
    requested = form.get("requested_token_type") or ACCESS_TOKEN
    if requested not in TOKEN_TYPES:
        raise InvalidRequest("requested_token_type is not supported")
    if form.get("resource"):
        raise InvalidTarget("resource parameter not supported")
    return subject_token, subject_type, actor_token, actor_type, requested


async def exchange(services: Services, app: Application, form: Mapping[str, str]) -> Issued:
    subject_token, subject_type, actor_token, actor_type, requested = _check_form(form)
    async with services.store.write() as tx:
        if not await instance_store.feature_enabled(tx.conn, instance_store.TOKEN_EXCHANGE_FEATURE):
            raise InvalidRequest("Errors.TokenExchange.FeatureDisabled")
        if requested not in (ACCESS_TOKEN, ID_TOKEN, JWT):
            raise InvalidRequest("Errors.TokenExchange.Token.TypeNotSupported")
        subject_token_of = await _verify(services, tx.conn, app, subject_token, subject_type, subject=True)
        if subject_token_of is None:
            raise InvalidRequest("subject_token invalid")
        actor: Presented | None = None
        if actor_token or subject_type in (JWT, USER_ID):
            if not await instance_store.impersonation_enabled(tx.conn):
                raise InvalidRequest("Errors.TokenExchange.Impersonation.PolicyDisabled", status=403)
            if actor_type in (JWT, USER_ID):
                raise InvalidRequest("Errors.TokenExchange.Token.TypeNotAllowed")
            if actor_token and actor_type:
                actor = await _verify(services, tx.conn, app, actor_token, actor_type, subject=False)
            if actor is None:
                raise InvalidRequest("actor_token invalid")
        subject = await subject_loader.load(tx.conn, subject_token_of.user_id,
                                            must_be_domain=services.policies.domain.user_login_must_be_domain)
        if subject is None or not subject.active:
            raise InvalidRequest("subject_token invalid")
        if actor is not None:
            await _check_permission(tx.conn, actor.user_id, subject)
        grant = Grant(
            client_id=app.client_id, user_id=subject.user.id,
            scopes=await _scopes(tx.conn, app, form.get("scope"), subject_token_of, actor),
            audience=_audience(form.get("audience"), subject_token_of, actor),
            auth_time=(actor or subject_token_of).auth_time, amr=(actor or subject_token_of).amr,
            actor=_act(services.settings.issuer, actor) if actor else subject_token_of.actor,
        )
        if actor is not None:
            await tx.event("user", subject.user.id, "user.impersonated",
                           {"actor": {"issuer": services.settings.issuer, "userId": actor.user_id},
                            "clientId": app.client_id}, resource_owner=subject.org.id)
        return await _issue(services, tx, app, subject, grant, requested)


async def _verify(services: Services, conn: AsyncConnection, app: Application, token: str, token_type: str,
                  *, subject: bool) -> Presented | None:
    if token_type == ACCESS_TOKEN:
        return await _access_token(services, conn, app, token)
    if token_type == ID_TOKEN:
        return await _id_token(services, token)
    if token_type == USER_ID and subject:
        return Presented(user_id=token) if token and len(token) <= 200 else None
    if token_type == JWT and subject:
        return await _app_signed_jwt(services, conn, app, token)
    raise InvalidRequest("Errors.TokenExchange.Token.TypeNotSupported")


async def _access_token(services: Services, conn: AsyncConnection, app: Application, token: str) -> Presented | None:
    record = await find_access_token(services, conn, token)
    if record is not None and record.format == "pat":  # lookup's personal access token record
        return Presented(user_id=record.grant.user_id, scopes=record.grant.scopes,
                         audience=(app.client_id, app.project_id))
    if record is not None:
        g = record.grant
        return Presented(user_id=g.user_id, scopes=g.scopes, audience=g.audience, auth_time=g.auth_time,
                         amr=g.amr, actor=g.actor)
    if not well_formed(token):
        return None
    pat = await credentials.find_pat(conn, services.hasher.hash(token), services.store.clock())
    if pat is None:
        return None  # a PAT's audience gains the requesting client and its project (spec §3)
    return Presented(user_id=pat.user_id, scopes=pat.scopes, audience=(app.client_id, app.project_id))


async def _id_token(services: Services, token: str) -> Presented | None:
    if not well_formed(token) or token.count(".") != 2:
        return None
    try:
        claims = await services.keyring.verify(token)
    except (InvalidToken, KeyError, ValueError):
        return None
    sub, exp, aud = claims.get("sub"), claims.get("exp"), claims.get("aud")
    if claims.get("iss") != services.settings.issuer or not isinstance(sub, str) or not sub:
        return None
    if not isinstance(exp, int) or isinstance(exp, bool) or exp <= int(services.store.clock().timestamp()):
        return None  # expired ID tokens are refused (spec §3)
    if claims.get("jti") is not None or claims.get("nbf") is not None:
        return None  # a JWT access token (or another of our JWTs) is not an ID token
    auth_time = claims.get("auth_time")
    amr = claims.get("amr")
    act = claims.get("act")
    return Presented(
        user_id=sub, audience=tuple(aud) if isinstance(aud, list) else ((aud,) if isinstance(aud, str) else ()),
        auth_time=datetime.fromtimestamp(auth_time, UTC) if isinstance(auth_time, int) else None,
        amr=tuple(a for a in amr if isinstance(a, str)) if isinstance(amr, list) else (),
        actor=act if isinstance(act, dict) else None,
    )


async def _app_signed_jwt(services: Services, conn: AsyncConnection, app: Application,
                          token: str) -> Presented | None:
    """JWT-profile style (zitadel `verifyJWT` with the app's keys); `iss` need not equal `sub`."""
    if not well_formed(token) or token.count(".") != 2:
        return None
    now = services.store.clock()
    try:
        kid = jws.extract_compact(token.encode()).protected.get("kid")
        pem = await app_keys.public_key(conn, app.id, str(kid), now) if kid else None
        if pem is None:
            return None
        claims = jwt.decode(token, KeySet.import_key_set({"keys": [client_auth._jwk(pem, str(kid))]}),
                            algorithms=client_auth.ASSERTION_ALGORITHMS).claims
    except (JoseError, ValueError, TypeError):
        return None
    skew = app.oidc.clock_skew if app.oidc else timedelta(0)
    aud = claims.get("aud")
    audiences: list[Any] = aud if isinstance(aud, list) else [aud]
    sub, exp, iat = claims.get("sub"), claims.get("exp"), claims.get("iat")
    if (not isinstance(sub, str) or not sub
            or not any(isinstance(a, str) and a.startswith(services.settings.issuer) for a in audiences)
            or not isinstance(exp, int) or datetime.fromtimestamp(exp, UTC) + skew <= now
            or not isinstance(iat, int) or datetime.fromtimestamp(iat, UTC) < now - MAX_JWT_AGE
            or datetime.fromtimestamp(iat, UTC) > now + skew):
        return None
    return Presented(user_id=sub)


async def _check_permission(conn: AsyncConnection, actor_id: str, subject: Subject) -> None:
    """zitadel `CreateOIDCSession`: `checkPermission(ctx, "impersonation", resourceOwner, userID)`."""
    for membership in await members.in_context(conn, actor_id, subject.org.id):
        if any(IMPERSONATION in ROLE_PERMISSIONS.get(role, frozenset()) for role in membership.roles):
            return
    raise InvalidRequest("No matching permissions found", status=403)


def _audience(requested: str | None, subject: Presented, actor: Presented | None) -> tuple[str, ...]:
    values = tuple(dict.fromkeys((requested or "").split()))
    allowed = set(subject.audience) | set(actor.audience if actor else ())
    for value in values:
        if value not in allowed:
            raise InvalidTarget(f"audience {value!r} not found in subject or actor token")
    if values:
        return values
    return subject.audience or (actor.audience if actor else ())


async def _scopes(conn: AsyncConnection, app: Application, requested: str | None, subject: Presented,
                  actor: Presented | None) -> tuple[str, ...]:
    scopes = tuple(sc.parse(requested)) or subject.scopes or (actor.scopes if actor else ())
    return sc.allowed(scopes, [role.key for role in await projects.list_roles(conn, app.project_id)])


def _act(issuer: str, actor: Presented) -> dict[str, Any]:
    act: dict[str, Any] = {"iss": issuer, "sub": actor.user_id}
    if actor.actor:
        act["act"] = actor.actor
    return act


async def _issue(services: Services, tx: Tx, app: Application, subject: Subject, grant: Grant,
                 requested: str) -> Issued:
    """The issuer's steps with the exchange's own rules: the access token is opaque unless a JWT
    was asked for, whatever the app's setting; an asked-for ID token goes in `access_token`."""
    client = dataclasses.replace(await client_settings(tx.conn, app), jwt_access_token=requested == JWT)
    request = TokenRequest(app=app, subject=subject, grant=grant, family_id=tx.new_id())
    base = await load.context(tx.conn, subject, grant.scopes, client, issuing._facts(services, request, tx.now),
                              Destination.ACCESS_TOKEN, Destination.ID_TOKEN)
    scope = " ".join(grant.scopes)
    if requested == ID_TOKEN:
        id_token = await issuing._id_token(services, tx, request, base, None)
        return Exchanged(access_token=id_token, expires_in=int(services.settings.id_token_lifetime.total_seconds()),
                      token_type="N_A", issued_token_type=ID_TOKEN, scope=scope)
    lifetime = services.settings.access_token_lifetime
    access_token = await issuing._access_token(services, tx, request, base, lifetime)
    refresh_token = None
    if sc.OFFLINE_ACCESS in grant.scopes and app.oidc is not None and GrantType.REFRESH_TOKEN in app.oidc.grant_types:
        refresh_token = await issuing._refresh_token(services, tx, request)
    beside = await issuing._id_token(services, tx, request, base, access_token) if sc.OPENID in grant.scopes else None
    return Exchanged(access_token=access_token, expires_in=int(lifetime.total_seconds()) - 1,
                     refresh_token=refresh_token, id_token=beside, issued_token_type=requested, scope=scope)
