"""The UserInfo endpoint (OIDC Core §5.3; spec/endpoints.md §9, spec/claims.md §2).

- The access token comes in `Authorization: Bearer` (RFC 6750 §2.1) or, on POST, in the form
  field `access_token` (RFC 6750 §2.2). Never from the query (§2.3 is optional and leaks tokens
  into logs and history): a token there counts as no token.
- Both at once is `invalid_request`, 400 (RFC 6750 §2: one method per request).
- No token: 401 `invalid_request` (ZITADEL's code, spec/endpoints.md §6), with a bare
  `WWW-Authenticate: Bearer realm=…` carrying no error attribute (RFC 6750 §3.1: a request
  without credentials gets no error code in the challenge).
- Unknown, malformed, expired or revoked token, or a user who is no longer active: 401
  `invalid_token` with `WWW-Authenticate: Bearer …, error="invalid_token"` (RFC 6750 §3.1).
  ZITADEL answers `access_denied` here and sets no challenge; Bergfried follows RFC 6750
  because standard clients and resource-server libraries key on `invalid_token` to refresh.
- Machine users' tokens and personal access tokens have no application: the claims are made
  with default settings (spec/other-grants.md §1, §4).
- The claims are the one assembler's, for the token's scopes and its client's settings
  (claims/matrix.py, claims/assemble.py), plus the custom claims of the "pre userinfo creation"
  actions (actions/complement.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bergfried.actions.complement import complement, save_metadata_apart
from bergfried.claims import load
from bergfried.claims.assemble import Destination, assemble
from bergfried.claims.context import ClientSettings, TokenFacts
from bergfried.domain.actions import PRE_USERINFO
from bergfried.domain.users import MachineUser
from bergfried.errors import InvalidRequest, InvalidToken
from bergfried.services import Services
from bergfried.store.tokens import AccessTokenRecord
from bergfried.tokens.lookup import find_access_token_with_subject

REALM = "bergfried"


def _challenge(error: str | None = None, description: str | None = None) -> dict[str, str]:
    value = f'Bearer realm="{REALM}"'
    if error:
        value += f', error="{error}"'
    if description:
        value += f', error_description="{description}"'
    return {"www-authenticate": value}


def _missing() -> InvalidRequest:
    return InvalidRequest("access token missing", status=401, headers=_challenge())


def _invalid(detail: str) -> InvalidToken:
    description = "access token invalid"
    return InvalidToken(description, detail=detail, headers=_challenge("invalid_token", description))


def bearer_token(authorization: str | None, form: Mapping[str, str] | None) -> str:
    """The one token this request carries (RFC 6750 §2.1, §2.2)."""
    header_token = None
    if authorization is not None:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer":
            header_token = value.strip()
    form_token = form.get("access_token") if form is not None else None
    if header_token is not None and form_token is not None:
        description = "the access token must be sent one way only"
        raise InvalidRequest(description, headers=_challenge("invalid_request", description))
    token = header_token if header_token is not None else form_token
    if not token:
        raise _missing()
    return token


async def userinfo(services: Services, authorization: str | None, form: Mapping[str, str] | None) -> dict[str, Any]:
    token = bearer_token(authorization, form)
    async with services.store.read() as conn:
        found = await find_access_token_with_subject(services, conn, token)
        if found is None:
            raise _invalid("unknown, expired or revoked access token")
        record, subject, client = found.record, found.subject, found.client
        grant = record.grant
        if client is None and subject is not None and isinstance(subject.user, MachineUser):
            client = machine_client(subject.user, grant.client_id)
        if subject is None or not subject.active or client is None:
            raise _invalid(f"user {grant.user_id} or client {grant.client_id} is not active")
        ctx = await load.context(conn, subject, grant.scopes, client, token_facts(services, record),
                                 Destination.USERINFO)
        outcome = await complement(services, conn, PRE_USERINFO, ctx, assemble(ctx, Destination.USERINFO))
    await save_metadata_apart(services, subject, outcome.metadata)
    return outcome.claims


def machine_client(user: MachineUser, client_id: str) -> ClientSettings | None:
    """A machine user's own tokens (client_credentials, jwt-bearer: client id = its user name) and
    its personal access tokens (no client) have no application behind them."""
    if client_id not in ("", user.username):
        return None
    return ClientSettings(client_id=client_id, project_id="")


def token_facts(services: Services, record: AccessTokenRecord) -> TokenFacts:
    """The facts of a stored access token, as userinfo and introspection show them."""
    grant = record.grant
    return TokenFacts(
        issuer=services.settings.issuer, client_id=grant.client_id, audience=grant.audience,
        issued_at=int(record.created_at.timestamp()), expires_at=int(record.expires_at.timestamp()),
        token_id=record.id, auth_time=int(grant.auth_time.timestamp()) if grant.auth_time else None,
        amr=grant.amr, session_id=grant.session_id, actor=grant.actor,
    )
