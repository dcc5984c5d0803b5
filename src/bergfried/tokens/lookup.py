"""From a presented access token to its stored record, whatever its form (spec/endpoints.md §8).

- A token with exactly two dots is a JWS (RFC 7515 §7.1): its signature must verify against a
  published key, `iss` must be ours and `exp` in the future (RFC 9068 §4); then its `jti` names
  the row. Anything else is opaque and found by its keyed hash.
- Either way the row decides (zitadel `access_token.go` `verifyAccessToken`): revocation,
  expiry and the end of the login session reach JWTs too, in every process at once.
- The row must be a JWT row for a JWT and name the same subject: our keys also sign ID tokens
  and logout tokens, and none of those may pass for an access token.
- Garbage is simply "not found": callers turn `None` into their endpoint's own answer (401,
  `active: false`, a silent 200), so nothing here raises on what a client sends.

Personal access tokens (spec/other-grants.md §4) are a third kind: opaque, in their own table,
found by their keyed hash as one more entry of `_OPAQUE_LOOKUPS`. Their record has the format
`pat`, no client (`client_id` empty) and no audience: introspection adds its caller, as ZITADEL
does. Deleting the PAT revokes it; its expiry and its user's state are checked in the query.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.claims import subject as subject_loader
from bergfried.claims.subject import TokenSubject
from bergfried.domain.apps import Application
from bergfried.errors import InvalidToken
from bergfried.services import Services
from bergfried.store import apps
from bergfried.store.credentials import find_pat
from bergfried.store.tokens import AccessTokenRecord, Grant, active_access_token

MAX_TOKEN_LENGTH = 16 * 1024  # a JWT access token with metadata claims stays far below
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 §2.1 b64token

PAT_FORMAT = "pat"
OpaqueLookup = Callable[[Services, AsyncConnection, str, datetime], Awaitable[AccessTokenRecord | None]]


async def _oauth_access_token(services: Services, conn: AsyncConnection, token: str,
                              now: datetime) -> AccessTokenRecord | None:
    return await active_access_token(conn, now, token_hash=services.hasher.hash(token))


async def _personal_access_token(services: Services, conn: AsyncConnection, token: str,
                                 now: datetime) -> AccessTokenRecord | None:
    pat = await find_pat(conn, services.hasher.hash(token), now)
    if pat is None:
        return None
    grant = Grant(client_id="", user_id=pat.user_id, scopes=pat.scopes, audience=())
    return AccessTokenRecord(id=pat.id, format=PAT_FORMAT, grant=grant, created_at=pat.created_at or now,
                             expires_at=pat.expires_at)


_OPAQUE_LOOKUPS: tuple[OpaqueLookup, ...] = (_oauth_access_token, _personal_access_token)


def well_formed(token: str) -> bool:
    """Could we have issued this? Anything else is not worth a hash or a query."""
    return 0 < len(token) <= MAX_TOKEN_LENGTH and _B64TOKEN.fullmatch(token) is not None


async def find_access_token(services: Services, conn: AsyncConnection, token: str) -> AccessTokenRecord | None:
    """The live access token `token` stands for, or None."""
    if not well_formed(token):
        return None
    now = services.store.clock()
    if token.count(".") == 2:
        return await _jwt(services, conn, token, now)
    for lookup in _OPAQUE_LOOKUPS:
        record = await lookup(services, conn, token, now)
        if record is not None:
            return record
    return None


async def _jwt(services: Services, conn: AsyncConnection, token: str, now: datetime) -> AccessTokenRecord | None:
    verified = await _verified_jwt(services, token, now)
    if verified is None:
        return None
    token_id, subject = verified
    record = await active_access_token(conn, now, token_id=token_id)
    return record if _is_jwt_of(record, subject) else None


async def _verified_jwt(services: Services, token: str, now: datetime) -> tuple[str, object] | None:
    """A JWT of ours, signed by a published key, unexpired: its `jti` and `sub`."""
    try:
        claims = await services.keyring.verify(token)
    except InvalidToken:
        return None
    token_id, subject, expires = claims.get("jti"), claims.get("sub"), claims.get("exp")
    if claims.get("iss") != services.settings.issuer or not isinstance(token_id, str) or not token_id:
        return None
    if not isinstance(expires, int) or isinstance(expires, bool) or not _after(expires, now):
        return None
    return token_id, subject


def _is_jwt_of(record: AccessTokenRecord | None, subject: object) -> bool:
    return record is not None and record.format == "jwt" and record.grant.user_id == subject


async def find_access_token_with_subject(services: Services, conn: AsyncConnection, token: str, *,
                                         client_id: str | None = None) -> TokenSubject | None:
    """`find_access_token`, with the token's subject and the settings of `client_id` (None: the
    token's own client) loaded in the same statement (claims/subject.py). A personal access
    token, which has a table of its own, costs one more."""
    if not well_formed(token):
        return None
    now = services.store.clock()
    must_be_domain = services.policies.domain.user_login_must_be_domain
    if token.count(".") == 2:
        verified = await _verified_jwt(services, token, now)
        if verified is None:
            return None
        found = await subject_loader.load_by_access_token(conn, now, token_id=verified[0], client_id=client_id,
                                                          must_be_domain=must_be_domain)
        return found if found is not None and _is_jwt_of(found.record, verified[1]) else None
    found = await subject_loader.load_by_access_token(conn, now, token_hash=services.hasher.hash(token),
                                                      client_id=client_id, must_be_domain=must_be_domain)
    if found is not None:
        return found
    return await _pat_with_subject(services, conn, token, now, client_id)


async def _pat_with_subject(services: Services, conn: AsyncConnection, token: str, now: datetime,
                            client_id: str | None) -> TokenSubject | None:
    record = await _personal_access_token(services, conn, token, now)
    if record is None:
        return None
    subject, client = await subject_loader.load_for_client(conn, record.grant.user_id, client_id or "",
                                                           must_be_domain=services.policies.domain.user_login_must_be_domain)
    return TokenSubject(record=record, subject=subject, client=client) if subject is not None else None


async def find_with_caller(services: Services, conn: AsyncConnection, token: str, caller_client_id: str
                           ) -> tuple[tuple[Application, str | None] | None, TokenSubject | None]:
    """Introspection's read for a caller with a secret: the caller's application and secret hash
    (`apps.find_by_client_id`'s answer; None: no such client) and `find_access_token_with_subject`
    with the caller's settings, in one statement when the token is an access token of ours."""
    now = services.store.clock()
    token_hash = token_id = None
    verified = None
    if well_formed(token):
        if token.count(".") == 2:
            verified = await _verified_jwt(services, token, now)
            token_id = verified[0] if verified is not None else None
        else:
            token_hash = services.hasher.hash(token)
    if token_hash is None and token_id is None:  # not a token of ours: the caller alone
        return await apps.find_by_client_id(conn, caller_client_id), None
    loaded = await subject_loader.load_caller_and_access_token(
        conn, caller_client_id, now, token_hash=token_hash, token_id=token_id,
        must_be_domain=services.policies.domain.user_login_must_be_domain)
    if loaded is None:
        return None, None
    caller, found = apps.with_secret(loaded[0]), loaded[1]
    if verified is not None:
        return caller, found if found is not None and _is_jwt_of(found.record, verified[1]) else None
    if found is None:  # a personal access token, perhaps (one read more)
        found = await _pat_with_subject(services, conn, token, now, caller_client_id)
    return caller, found


def _after(timestamp: int, now: datetime) -> bool:
    try:
        return datetime.fromtimestamp(timestamp, UTC) > now
    except (OverflowError, OSError, ValueError):
        return False
