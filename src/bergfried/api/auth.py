"""Who is calling: `Authorization: Bearer <token>` → the caller (spec/management-api.md §2).

Accepted, in this order:
- a personal access token (opaque, found by its keyed hash): PATs skip the audience check
  (`token_verifier.go` `token.IsPAT`);
- an access token Bergfried issued, opaque or JWT (`tokens/lookup.py`), whose `aud` contains the
  instance's ZITADEL project id, else UNAUTHENTICATED `invalid audience (APP-Zxfako)`;
  a token-exchange token with `act` is refused (PERMISSION_DENIED `Errors.TokenExchange.Token.NotForAPI`).
Missing header → UNAUTHENTICATED `auth header missing` (a plain status); anything else unknown,
expired or revoked → UNAUTHENTICATED `Errors.Token.Invalid (AUTH-7fs1e)`: these errors come
before ZITADEL's translation interceptor, so they carry the raw key.
"""

from __future__ import annotations

from dataclasses import dataclass

from bergfried.domain.users import UserState
from bergfried.errors import PermissionDenied, Unauthenticated
from bergfried.services import Services
from bergfried.store import credentials, instances, users
from bergfried.tokens.lookup import find_access_token, well_formed


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: str
    org_id: str  # the caller's own organization: the context when no `x-zitadel-orgid` is sent
    instance_id: str
    kind: str  # "pat" | "access_token"


def _invalid() -> Unauthenticated:
    return Unauthenticated("Errors.Token.Invalid", "Errors.Token.Invalid", error_id="AUTH-7fs1e")


def bearer_token(header: str | None) -> str:
    if not header:
        raise Unauthenticated("auth header missing", "auth header missing", error_id="AUTH-7fs1e", plain=True)
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not well_formed(token):
        raise _invalid()
    return token


async def authenticate(services: Services, header: str | None) -> Caller:
    token = bearer_token(header)
    async with services.store.read() as conn:
        instance = await instances.get(conn)
        if instance is None:
            raise _invalid()
        now = services.store.clock()
        pat = await credentials.find_pat(conn, services.hasher.hash(token), now)
        if pat is not None:
            return Caller(user_id=pat.user_id, org_id=pat.org_id, instance_id=instance.id, kind="pat")
        record = await find_access_token(services, conn, token)
        if record is None:
            raise _invalid()
        if record.grant.actor:
            raise PermissionDenied("Errors.TokenExchange.Token.NotForAPI", "Errors.TokenExchange.Token.NotForAPI",
                                   error_id="APP-2nmk3")
        project_id = instance.zitadel_project_id
        if project_id is None or project_id not in record.grant.audience:
            raise Unauthenticated("invalid audience", "invalid audience", error_id="APP-Zxfako")
        user = await users.find(conn, record.grant.user_id)
        if user is None or user.state != UserState.ACTIVE:
            raise _invalid()
        return Caller(user_id=user.id, org_id=user.org_id, instance_id=instance.id, kind="access_token")
