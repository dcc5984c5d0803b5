"""Token revocation (RFC 7009; spec/endpoints.md §6, §8, §9).

- The client authenticates with the method its application is configured for; a public client
  identifies itself with `client_id` alone (RFC 7009 §2.1, §5). Failures are the token
  endpoint's (oidc/client_auth.py).
- `token` is required (`invalid_request` "token missing"); `token_type_hint` only decides which
  kind is looked up first — an unknown hint or a wrong one still finds the token (RFC 7009 §2.1).
- The token must have been issued to this client (RFC 7009 §2.1): else `invalid_client`
  "token was not issued for this client", 401 (zitadel `RevokeToken`, oidc `RevocationError`).
  ZITADEL accepts any client in the token's audience (every app of the project); Bergfried
  follows the RFC, as it does for refresh tokens at the token endpoint (spec/README.md).
- A refresh token takes its whole family with it: every access token issued from the same
  grant stops working (RFC 7009 §2.1 SHOULD; spec/endpoints.md §8). An access token goes alone
  and leaves its refresh token usable.
- Unknown, malformed, expired or already revoked tokens: success, so a client cannot probe
  which tokens exist (RFC 7009 §2.2).
The revocation commits before the answer, and lookups read the database, so every process
refuses the token from then on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial

from bergfried.errors import InvalidClient, InvalidRequest
from bergfried.oidc import client_auth
from bergfried.services import Services
from bergfried.store import tokens as token_store
from bergfried.store.tx import Tx
from bergfried.tokens.lookup import find_access_token, well_formed


@dataclass(frozen=True, slots=True)
class Found:
    """A token to revoke: whose it is, and how it goes."""

    client_id: str
    revoke: Callable[[Tx], Awaitable[object]]


Finder = Callable[[Services, Tx, str], Awaitable[Found | None]]


async def _access_token(services: Services, tx: Tx, token: str) -> Found | None:
    record = await find_access_token(services, tx.conn, token)
    if record is None:
        return None
    return Found(record.grant.client_id, partial(token_store.revoke_access_token, token_id=record.id))


async def _refresh_token(services: Services, tx: Tx, token: str) -> Found | None:
    record = await token_store.get_refresh_token(tx.conn, services.hasher.hash(token))
    if record is None:
        return None
    return Found(record.grant.client_id, partial(token_store.revoke_family, family_id=record.family_id))


# token_type_hint → the order in which the kinds are looked up (RFC 7009 §2.1, §4.1.2).
ORDER: dict[str, tuple[Finder, ...]] = {
    "access_token": (_access_token, _refresh_token),
    "refresh_token": (_refresh_token, _access_token),
}


async def revoke(services: Services, authorization: str | None, form: Mapping[str, str]) -> None:
    credentials = client_auth.parse(authorization, form)
    app = await client_auth.authenticate(services, credentials)
    token = form.get("token")
    if not token:
        raise InvalidRequest("token missing")
    if not well_formed(token):
        return
    async with services.store.write() as tx:
        for find in ORDER.get(form.get("token_type_hint") or "", ORDER["access_token"]):
            found = await find(services, tx, token)
            if found is None:
                continue
            if found.client_id != app.client_id:
                raise InvalidClient("token was not issued for this client")
            await found.revoke(tx)
            return
