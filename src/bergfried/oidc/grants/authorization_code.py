"""`grant_type=authorization_code` (RFC 6749 §4.1.3, OIDC Core §3.1.3.2, RFC 7636 §4.5–4.6).

- The code is single use: one conditional UPDATE decides; a second redemption fails with
  `invalid_grant` and revokes every token the first one issued (RFC 6749 §4.1.2), also when the
  two were at the same time (the loser then finds the winner's family once its UPDATE lost).
- It is bound to the client that asked for it, to the `redirect_uri` of the request (§4.1.3;
  an empty path equals `/`), and to the PKCE challenge: a verifier is required when a challenge was sent and
  refused when none was (RFC 9700 §2.1.1, downgrade).
- It expires after `auth_code_lifetime` (60 s by default).
- The login session must still be active and the user too.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import sqlalchemy as sa

from bergfried.claims import subject as subject_loader
from bergfried.domain.apps import Application
from bergfried.errors import InvalidGrant, InvalidRequest
from bergfried.oidc import pkce
from bergfried.oidc.grants._common import checked
from bergfried.services import Services
from bergfried.store import tables as t
from bergfried.store import tokens as token_store
from bergfried.store.tx import Tx
from bergfried.tokens.issue import Issued, TokenRequest, issue


async def exchange(services: Services, app: Application, form: Mapping[str, str]) -> Issued:
    code = form.get("code")
    if not code:
        raise InvalidRequest("code is missing")
    code_hash = services.hasher.hash(code)
    replayed_family: str | None = None
    async with services.store.write() as tx:
        # the code with its subject, its session's end and the client's settings: one read
        started = await subject_loader.load_by_hash(
            tx.conn, "code", code_hash, app.client_id,
            must_be_domain=services.policies.domain.user_login_must_be_domain)
        record = token_store.code_record(started.row) if started is not None else None
        if started is None or record is None or record.grant.client_id != app.client_id:
            raise InvalidGrant("The code is invalid or was issued to another client")
        if record.consumed_at is not None:
            replayed_family = record.family_id
        else:
            _check_binding(record, form)
            family_id = tx.new_id()
            if await token_store.redeem_code(tx, code_hash, family_id):
                if record.grant.session_id and started.session_ended:
                    raise InvalidGrant("The login session of this code has ended")
                subject, client = await checked(tx, record.grant.user_id, started.subject, app, started.client)
                return await issue(services, tx, TokenRequest(
                    app=app, subject=subject, grant=record.grant, family_id=family_id, nonce=record.nonce,
                    response_type=record.response_type, client=client,
                ))
            # Lost the race to a redemption that committed after our read (PostgreSQL): a replay too.
            winner = await token_store.get_code(tx.conn, code_hash)
            if winner is None or winner.consumed_at is None or winner.family_id is None:
                raise InvalidGrant("The code has expired")
            replayed_family = winner.family_id
    if replayed_family:
        async with services.store.write() as tx:
            await token_store.revoke_family(tx, replayed_family)
    raise InvalidGrant("The code has already been used; the tokens it gave are revoked")


def same_redirect_uri(presented: str | None, original: str) -> bool:
    """RFC 6749 §4.1.3 asks for the identical URI. The one liberty taken: an empty path and `/`
    are the same URL (RFC 3986 §6.2.3; `http://localhost` is `http://localhost/` to every URL
    parser, and clients such as openid-client send the parsed form)."""
    if presented is None:
        return False
    if presented == original:
        return True
    parts, registered = urlsplit(presented), urlsplit(original)
    return (parts._replace(path=parts.path or "/") == registered._replace(path=registered.path or "/")
            and parts.scheme in ("http", "https"))


def _check_binding(record: token_store.CodeRecord, form: Mapping[str, str]) -> None:
    if not same_redirect_uri(form.get("redirect_uri"), record.redirect_uri):
        raise InvalidGrant("redirect_uri does not match the one of the authorization request")
    verifier = form.get("code_verifier")
    if record.code_challenge:
        if not verifier:
            raise InvalidRequest("code_verifier is required: the authorization request sent a code_challenge")
        if not pkce.verify(verifier, record.code_challenge, record.code_challenge_method):
            raise InvalidGrant("invalid code_verifier")
    elif verifier:
        raise InvalidGrant("code_verifier sent, but the authorization request had no code_challenge")


async def session_ended(tx: Tx, session_id: str) -> bool:
    ended = await tx.conn.execute(sa.select(t.sessions.c.terminated_at).where(t.sessions.c.id == session_id))
    return ended.scalar_one_or_none() is not None
