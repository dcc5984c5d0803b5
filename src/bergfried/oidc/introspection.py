"""Token introspection (RFC 7662; spec/endpoints.md §5, §6, §9; spec/claims.md §2).

Order of checks, as zitadel/oidc's `introspectionHandler` then ZITADEL's `Introspect`:
1. The caller sent credentials at all: else `invalid_client` "client must be authenticated", 400.
2. `token` present (RFC 7662 §2.1): else `invalid_request`, 400.
3. The caller authenticates as an active API or OIDC application with a secret or a
   `private_key_jwt` assertion; public clients never (RFC 7662 §2.1 "MUST require some form of
   authorization"; zitadel `introspect.go`). Any failure is `unauthorized_client`, 400, as
   ZITADEL answers (its docs say 401 `invalid_client`; clients are written against the code).
4. The token is live and the caller is in its audience (its client id or its project id):
   else just `{"active": false}` (RFC 7662 §2.2), so a caller learns nothing about tokens that
   are not meant for it. A personal access token is meant for every caller: the caller's client
   id and project id are its audience and its project's role keys its role scopes
   (spec/other-grants.md §4). A token of a user who is no longer active is not active either.
5. An active token answers with what the matrix gives introspection (claims/matrix.py): RFC 7662
   §2.2 members plus `amr`, `auth_time`, `act`, and the user claims of the token's scopes.
6. The "pre userinfo creation" actions add their custom claims (actions/complement.py).
`token_type_hint` is ignored: only access tokens are introspected, as ZITADEL does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.actions.complement import complement, save_metadata_apart
from bergfried.claims import load
from bergfried.claims import scopes as sc
from bergfried.claims.assemble import Destination, assemble
from bergfried.claims.context import client_settings
from bergfried.domain.actions import PRE_USERINFO
from bergfried.domain.apps import Application
from bergfried.errors import InvalidClient, InvalidRequest, UnauthorizedClient
from bergfried.oidc import client_auth
from bergfried.oidc.userinfo import token_facts
from bergfried.services import Services
from bergfried.store import projects
from bergfried.store.tokens import AccessTokenRecord
from bergfried.tokens.lookup import PAT_FORMAT, find_access_token_with_subject, find_with_caller

INACTIVE: dict[str, Any] = {"active": False}


def _has_credentials(authorization: str | None, form: Mapping[str, str]) -> bool:
    return bool(authorization and authorization.strip()) or bool(form.get("client_id") or form.get("client_assertion"))


def _credentials(authorization: str | None, form: Mapping[str, str]) -> client_auth.Credentials:
    try:
        return client_auth.parse(authorization, form)
    except InvalidClient as exc:
        raise UnauthorizedClient("client authentication failed", detail=exc.detail or exc.description) from None


async def _caller(services: Services, credentials: client_auth.Credentials) -> Application:
    try:
        return await client_auth.authenticate(services, credentials, allow_public=False)
    except InvalidClient as exc:
        raise UnauthorizedClient("client authentication failed", detail=exc.detail or exc.description) from None


async def _checked(services: Services, credentials: client_auth.Credentials,
                   found: tuple[Application, str | None] | None) -> Application:
    try:
        return await client_auth.check(services, credentials, found, allow_public=False)
    except InvalidClient as exc:
        raise UnauthorizedClient("client authentication failed", detail=exc.detail or exc.description) from None


async def _for_caller(conn: AsyncConnection, record: AccessTokenRecord, caller: Application) -> AccessTokenRecord:
    """zitadel `assertClientScopesForPAT`: the caller's client id and project id join the PAT's
    audience and every role key of the caller's project becomes one of its role scopes."""
    role_scopes = tuple(sc.ROLE_PREFIX + role.key for role in await projects.list_roles(conn, caller.project_id))
    grant = dataclasses.replace(record.grant, audience=(caller.client_id, caller.project_id),
                                scopes=tuple(dict.fromkeys(record.grant.scopes + role_scopes)))
    return dataclasses.replace(record, grant=grant)


async def introspect(services: Services, authorization: str | None, form: Mapping[str, str]) -> dict[str, Any]:
    if not _has_credentials(authorization, form):
        raise InvalidClient("client must be authenticated", status=400)
    token = form.get("token")
    if not token:
        raise InvalidRequest("token missing")
    credentials = _credentials(authorization, form)
    # A private_key_jwt caller is checked before the read: its assertion's `jti` is written on a
    # connection of its own. A secret is checked on the read that loads the token: one connection.
    caller = await _caller(services, credentials) if credentials.assertion else None
    async with services.store.read() as conn:
        # The roles are the introspecting API's project's (ZITADEL's currentProjectOnly): the
        # settings loaded with the token and its subject are the caller's.
        if caller is None:  # the caller and the token in one statement; the token counts only if it passes
            application, found = await find_with_caller(services, conn, token, credentials.client_id or "")
            caller = await _checked(services, credentials, application)
        else:
            found = await find_access_token_with_subject(services, conn, token, client_id=caller.client_id)
        if found is None:
            return INACTIVE
        record, subject = found.record, found.subject
        if record.format == PAT_FORMAT:
            record = await _for_caller(conn, record, caller)
        if not ({caller.client_id, caller.project_id} & set(record.grant.audience)) or not subject.active:
            return INACTIVE
        grant = record.grant
        client = dataclasses.replace(found.client or await client_settings(conn, caller), client_id=grant.client_id)
        ctx = await load.context(conn, subject, grant.scopes, client, token_facts(services, record),
                                 Destination.INTROSPECTION)
        outcome = await complement(services, conn, PRE_USERINFO, ctx, assemble(ctx, Destination.INTROSPECTION))
    await save_metadata_apart(services, subject, outcome.metadata)
    return outcome.claims
