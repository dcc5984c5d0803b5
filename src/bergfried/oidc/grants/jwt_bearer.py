"""`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` (RFC 7523 §2.1, §3) for machine
users with a key from `POST /management/v1/users/{id}/keys` (spec/other-grants.md §2).

- No client authentication; `assertion` missing → `invalid_request` "assertion missing".
- Header `kid` = the key file's `keyId`, RS256. `iss` = `sub` = the machine user's id (RFC 7523
  §3 items 1–2); the key is that user's, unexpired, and the user active.
- `aud` (string or array) contains the issuer exactly (§3 item 3).
- `exp` in the future and `iat` not in the future, each with 1 s of clock skew, and `iat` at most
  1 h old (ZITADEL's verifier: §3 items 4 and 6 let the server bound both).
- `jti` is required and used once (§3 item 7; ZITADEL keeps no replay store, Bergfried does):
  its row in `used_assertions` is inserted in the same transaction as the tokens, so of two
  redemptions exactly one commits; the other is `invalid_grant`.
- Every rejection of the assertion is `invalid_grant`, 400 (§3.1), where ZITADEL answers a
  malformed one with 500 (zitadel/zitadel#12692).
- Tokens as `machine.py` describes, `amr` empty (a key login has no AMR value), role assertion
  on: the roles asked for by role scopes go into a JWT access token too.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from sqlalchemy.exc import IntegrityError

from bergfried.domain.users import MachineUser
from bergfried.errors import InvalidGrant, InvalidRequest
from bergfried.oidc.grants import machine
from bergfried.services import Services
from bergfried.store import credentials, users
from bergfried.store import tables as t
from bergfried.tokens.issue import Issued

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLOCK_SKEW = timedelta(seconds=1)
MAX_AGE = timedelta(hours=1)


def _claims_unverified(assertion: str) -> dict[str, Any]:
    try:
        payload = assertion.split(".")[1]
        loaded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        raise InvalidGrant("the assertion is not a JWT") from None
    if not isinstance(loaded, dict):
        raise InvalidGrant("the assertion is not a JWT")
    return loaded


def _time(claims: dict[str, Any], name: str) -> datetime:
    value = claims.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidGrant(f"the assertion's {name} is missing")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidGrant(f"the assertion's {name} is not a time") from None


def _check(services: Services, claims: dict[str, Any], now: datetime) -> str:
    """The checks of RFC 7523 §3 on verified claims; returns the `jti`."""
    if claims.get("sub") != claims.get("iss"):
        raise InvalidGrant("the assertion's sub must equal its iss")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if services.settings.issuer not in audiences:
        raise InvalidGrant("the assertion's aud must contain the issuer")
    if _time(claims, "exp") + CLOCK_SKEW <= now:
        raise InvalidGrant("the assertion has expired")
    issued_at = _time(claims, "iat")
    if issued_at > now + CLOCK_SKEW:
        raise InvalidGrant("the assertion's iat is in the future")
    if issued_at < now - MAX_AGE:
        raise InvalidGrant("the assertion's iat is older than 1 h")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise InvalidGrant("the assertion's jti is missing")
    return jti


async def exchange(services: Services, authorization: str | None, form: Mapping[str, str]) -> Issued:
    assertion = form.get("assertion")
    if not assertion:
        raise InvalidRequest("assertion missing")
    try:
        header = jws.extract_compact(assertion.encode()).protected
    except (JoseError, ValueError):
        raise InvalidGrant("the assertion is not a JWS") from None
    kid, issuer = header.get("kid"), _claims_unverified(assertion).get("iss")
    if not isinstance(kid, str) or not kid or not isinstance(issuer, str) or not issuer:
        raise InvalidGrant("the assertion needs a kid and an iss")
    now = services.store.clock()
    try:
        async with services.store.write() as tx:
            pem = await credentials.machine_key(tx.conn, issuer, kid, now)
            user = await users.find(tx.conn, issuer) if pem is not None else None
            if pem is None or not isinstance(user, MachineUser):
                raise InvalidGrant("the assertion's key is unknown or expired", detail=f"kid {kid!r} iss {issuer!r}")
            try:
                token = jwt.decode(assertion, RSAKey.import_key(pem), algorithms=["RS256"])
            except (JoseError, ValueError) as exc:
                raise InvalidGrant("the assertion's signature does not verify", detail=str(exc)) from None
            jti = _check(services, dict(token.claims), now)
            await tx.conn.execute(t.used_assertions.insert().values(
                issuer=issuer, jti=jti, expires_at=_time(token.claims, "exp") + CLOCK_SKEW))
            return await machine.issue_for(services, tx, user, machine.requested_scopes(form.get("scope")), (),
                                           role_assertion=True)
    except IntegrityError:
        raise InvalidGrant("the assertion was already used (jti)") from None
