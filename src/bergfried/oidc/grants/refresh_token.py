"""`grant_type=refresh_token` (RFC 6749 §6; RFC 9700 §4.14.2).

- The token must belong to the authenticated client (RFC 6749 §6; ZITADEL does not check —
  spec/README.md decision).
- Rotation: each use consumes the presented token (one conditional UPDATE) and returns a new
  one of the same family; presenting a consumed token again revokes the whole family.
- Idle lifetime restarts with every rotation; the absolute lifetime counts from the first
  issuance and never moves.
- A `scope` parameter narrows the grant and must be a subset (`invalid_scope` otherwise).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from bergfried.claims import scopes as sc
from bergfried.claims import subject as subject_loader
from bergfried.domain.apps import Application
from bergfried.errors import InvalidGrant, InvalidRequest, InvalidScope
from bergfried.oidc.grants._common import checked
from bergfried.services import Services
from bergfried.store import tokens as token_store
from bergfried.tokens.issue import Issued, TokenRequest, issue


async def exchange(services: Services, app: Application, form: Mapping[str, str]) -> Issued:
    presented = form.get("refresh_token")
    if not presented:
        raise InvalidRequest("refresh_token is missing")
    reused_family: str | None = None
    async with services.store.write() as tx:
        started = await subject_loader.load_by_hash(
            tx.conn, "refresh", services.hasher.hash(presented), app.client_id,
            must_be_domain=services.policies.domain.user_login_must_be_domain)
        record = token_store.refresh_record(started.row) if started is not None else None
        if started is None or record is None or record.grant.client_id != app.client_id:
            raise InvalidGrant("The refresh token is invalid or was issued to another client")
        if record.revoked_at is not None:
            raise InvalidGrant("The refresh token has been revoked")
        if record.consumed_at is not None or not await token_store.consume_refresh_token(tx, record.id):
            if record.consumed_at is None and min(record.idle_expires_at, record.family_expires_at) <= tx.now:
                raise InvalidGrant("The refresh token has expired")
            reused_family = record.family_id
        else:
            grant = record.grant
            requested = sc.parse(form.get("scope"))
            if requested:
                if not set(requested) <= set(grant.scopes):
                    raise InvalidScope("The requested scope exceeds the scope originally granted")
                grant = dataclasses.replace(grant, scopes=tuple(requested))
            subject, client = await checked(tx, grant.user_id, started.subject, app, started.client)
            return await issue(services, tx, TokenRequest(
                app=app, subject=subject, grant=grant, family_id=record.family_id,
                refresh_family_expires_at=record.family_expires_at, client=client,
            ))
    async with services.store.write() as tx:
        await token_store.revoke_family(tx, reused_family)
    raise InvalidGrant("The refresh token was already used; its family is revoked")
