"""Client authentication at the token, introspection and revocation endpoints.

- RFC 6749 §2.3.1: `client_secret_basic` — both halves of the Basic credentials are
  form-URL-encoded before base64 (client ids contain `@`, sent as `%40`), so they are decoded
  after base64; Basic wins over form fields; `client_secret_post` sends them in the form.
- RFC 7523 §2.2, §3: `private_key_jwt` — `client_assertion_type` must be
  `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`; `iss` = `sub` = the client id; `aud`
  names the issuer or the endpoint; `exp` in the future, `iat` at most 1 h old (ZITADEL's limit);
  `jti` used once (a conditional insert decides); signed by one of the application's keys (`kid`).
- ZITADEL checks exactly the method the application is configured for; `none` needs nothing
  (public clients then prove themselves with PKCE).
- A failed authentication is `invalid_client` with 401 and, when Basic was tried,
  `WWW-Authenticate: Basic` (RFC 6749 §5.2). Secrets are compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.exc import IntegrityError

from bergfried.domain.apps import ApiAuthMethodType, Application, AppState, AuthMethodType
from bergfried.errors import InvalidClient, InvalidRequest
from bergfried.services import Services
from bergfried.store import app_keys, apps
from bergfried.store import tables as t

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_AGE = timedelta(hours=1)
ASSERTION_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA"]


@dataclass(frozen=True, slots=True)
class Credentials:
    client_id: str | None
    secret: str | None = None
    assertion: str | None = None
    via_basic: bool = False


def _unauthorized(description: str, credentials: Credentials | None = None, detail: str | None = None) -> InvalidClient:
    headers = {"www-authenticate": 'Basic realm="bergfried"'} if credentials and credentials.via_basic else None
    return InvalidClient(description, detail=detail, headers=headers)


def parse(authorization: str | None, form: Mapping[str, str]) -> Credentials:
    """Read the client's credentials from the Authorization header or the form."""
    if authorization and authorization[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _unauthorized("the Basic credentials are not valid base64",
                                Credentials(None, via_basic=True)) from None
        client_id, sep, secret = decoded.partition(":")
        if not sep or not client_id:
            raise _unauthorized("the Basic credentials must be client_id:client_secret",
                                Credentials(None, via_basic=True))
        return Credentials(unquote_plus(client_id), unquote_plus(secret), via_basic=True)
    assertion = form.get("client_assertion")
    if assertion:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise InvalidRequest(f"client_assertion_type must be {ASSERTION_TYPE}")
        return Credentials(_assertion_issuer(assertion), assertion=assertion)
    form_client_id = form.get("client_id")
    if not form_client_id:
        raise InvalidRequest("client_id or client_assertion is missing")
    return Credentials(form_client_id, form.get("client_secret") or None)


def _assertion_issuer(assertion: str) -> str:
    """Only to find the client; the signature is checked once its keys are known."""
    issuer = _unverified_claims(assertion).get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise _unauthorized("the client assertion has no issuer")
    return issuer


def _unverified_claims(token: str) -> dict[str, Any]:
    import json

    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        loaded = json.loads(base64.urlsafe_b64decode(payload))
    except (IndexError, ValueError, binascii.Error):
        raise _unauthorized("the client assertion is not a JWT") from None
    if not isinstance(loaded, dict):
        raise _unauthorized("the client assertion is not a JWT")
    return loaded


def _method(app: Application) -> str:
    if app.oidc is not None:
        return {AuthMethodType.BASIC: "secret", AuthMethodType.POST: "secret", AuthMethodType.NONE: "none",
                AuthMethodType.PRIVATE_KEY_JWT: "jwt"}[app.oidc.auth_method_type]
    return "jwt" if app.api_auth_method_type == ApiAuthMethodType.PRIVATE_KEY_JWT else "secret"


async def authenticate(services: Services, credentials: Credentials, *, allow_public: bool = True) -> Application:
    """The active application these credentials prove, or `invalid_client`."""
    assert credentials.client_id is not None
    async with services.store.read() as conn:
        found = await apps.find_by_client_id(conn, credentials.client_id)
    return await check(services, credentials, found, allow_public=allow_public)


async def check(services: Services, credentials: Credentials, found: tuple[Application, str | None] | None, *,
                allow_public: bool = True) -> Application:
    """`authenticate` with the application already read (`apps.find_by_client_id`'s answer):
    introspection reads its caller in the statement that reads the token."""
    if found is None or found[0].state != AppState.ACTIVE:
        services.hasher.hash(credentials.secret or "")  # same work whether or not the client exists
        raise _unauthorized("client authentication failed", credentials, detail="unknown or inactive client")
    app, secret_hash = found
    method = _method(app)
    if method == "secret":
        if not credentials.secret or secret_hash is None or not services.hasher.verify(credentials.secret, secret_hash):
            raise _unauthorized("client authentication failed", credentials, detail="wrong or missing secret")
    elif method == "jwt":
        if not credentials.assertion:
            raise _unauthorized("this client authenticates with private_key_jwt", credentials)
        await _verify_assertion(services, app, credentials.assertion)
    elif not allow_public:
        raise _unauthorized("client must be authenticated", credentials)
    elif credentials.secret or credentials.assertion:
        raise _unauthorized("this client is public and must not send credentials", credentials)
    return app


async def _verify_assertion(services: Services, app: Application, assertion: str) -> None:
    from joserfc import jws

    now = services.store.clock()
    try:
        header = jws.extract_compact(assertion.encode()).protected
    except (JoseError, ValueError):
        raise _unauthorized("the client assertion is not a JWS") from None
    kid = header.get("kid")
    async with services.store.read() as conn:
        pem = await app_keys.public_key(conn, app.id, str(kid), now) if kid else None
    if pem is None:
        raise _unauthorized("the client assertion's key is unknown", detail=f"kid {kid!r}")
    try:
        token = jwt.decode(assertion, KeySet.import_key_set({"keys": [_jwk(pem, str(kid))]}),
                           algorithms=ASSERTION_ALGORITHMS)
    except (JoseError, ValueError) as exc:
        raise _unauthorized("the client assertion's signature does not verify", detail=str(exc)) from None
    _check_assertion_claims(services, app, token.claims, now)
    await _use_jti_once(services, app.client_id, token.claims)


def _jwk(pem: str, kid: str) -> dict[str, Any]:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    from joserfc.jwk import import_key

    loaded = load_pem_public_key(pem.encode())
    key_type = "OKP"
    if isinstance(loaded, rsa.RSAPublicKey):
        key_type = "RSA"
    elif isinstance(loaded, ec.EllipticCurvePublicKey):
        key_type = "EC"
    key = import_key(pem.encode(), key_type)  # type: ignore[call-overload]
    return {**key.as_dict(private=False), "kid": kid}


def _check_assertion_claims(services: Services, app: Application, claims: dict[str, Any], now: datetime) -> None:
    issuer = services.settings.issuer
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    exp, iat = claims.get("exp"), claims.get("iat")
    skew = app.oidc.clock_skew if app.oidc else timedelta(0)
    problems = [
        (claims.get("iss") != app.client_id or claims.get("sub") != app.client_id, "iss and sub must be the client id"),
        (not any(isinstance(a, str) and a.startswith(issuer) for a in audiences), "aud must name this issuer"),
        (not isinstance(exp, int) or datetime.fromtimestamp(exp, UTC) + skew <= now, "the assertion has expired"),
        (not isinstance(iat, int) or datetime.fromtimestamp(iat, UTC) < now - MAX_ASSERTION_AGE
         or datetime.fromtimestamp(iat, UTC) > now + skew + timedelta(seconds=5), "iat is too old or in the future"),
        (not isinstance(claims.get("jti"), str) or not claims.get("jti"), "jti is missing"),
    ]
    for failed, description in problems:
        if failed:
            raise _unauthorized("client assertion rejected: " + description)


async def _use_jti_once(services: Services, client_id: str, claims: dict[str, Any]) -> None:
    expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
    try:
        async with services.store.write() as tx:
            await tx.conn.execute(t.used_assertions.insert().values(
                issuer=client_id, jti=str(claims["jti"])[:255], expires_at=expires))
    except IntegrityError:
        raise _unauthorized("client assertion rejected: jti already used") from None
