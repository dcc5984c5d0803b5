"""Back-channel logout tokens, queued in the outbox (OpenID Connect Back-Channel Logout 1.0;
spec/backchannel-logout.md).

- Who is told: every application that received tokens in the ended login session (an access or
  refresh token row names the session) and has a back-channel logout URI; one token each,
  including the application that asked for the logout (spec §2).
- The token (spec §4; Back-Channel Logout §2.4): header `typ` `logout+jwt` (§2.4 recommends the
  explicit type; the issue asks for it), claims `iss`, `aud` (exactly the receiving client id),
  `iat` (now − 1 s), `exp` (now + 15 min), `jti`, `sub`, `sid` (the login session id, the same as
  in that session's ID tokens), `events` with the back-channel logout member, and never `nonce`
  (§2.4, seed 003).
- Every way a session ends goes through `end_session` (RP-initiated logout, DeleteSession) or
  `end_user_sessions` (the user deactivated, locked or removed): the session ends, its tokens are
  revoked at once and the logout tokens are queued.
- The row is written in the caller's transaction: the logout and its notifications commit
  together or not at all; delivery is the worker's (`oidc/backchannel_delivery.py`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from bergfried.services import Services
from bergfried.store import apps as app_store
from bergfried.store import sessions as session_store
from bergfried.store import tables as t
from bergfried.store import tokens as token_store
from bergfried.store.tx import Tx

EVENT = "http://schemas.openid.net/event/backchannel-logout"
KIND = "backchannel_logout"
LIFETIME = timedelta(minutes=15)  # OIDC.DefaultBackChannelLogoutLifetime
MAX_ATTEMPTS = 6


def _ts(value: Any) -> int:
    return int(value.timestamp())


async def clients_of_session(tx: Tx, session_id: str) -> list[str]:
    """Client ids that received tokens in the session, revoked or not: from the access and refresh
    token rows, and from answered implicit `id_token` requests, which leave no token row (ZITADEL
    registers every client a session's tokens went to, implicit included; spec/backchannel-logout.md §2).
    Each part is one query on an indexed `session_id`."""
    query = sa.union(
        sa.select(t.access_tokens.c.client_id).where(t.access_tokens.c.session_id == session_id),
        sa.select(t.refresh_tokens.c.client_id).where(t.refresh_tokens.c.session_id == session_id),
        sa.select(t.auth_requests.c.client_id).where(
            t.auth_requests.c.session_id == session_id, t.auth_requests.c.response_type == "id_token",
            t.auth_requests.c.consumed_at.is_not(None)),
    )
    return sorted({str(row[0]) for row in (await tx.conn.execute(query)).all()})


def claims(*, issuer: str, client_id: str, user_id: str, session_id: str, jti: str, now: Any) -> dict[str, Any]:
    return {
        "iss": issuer, "aud": [client_id], "iat": _ts(now - timedelta(seconds=1)), "exp": _ts(now + LIFETIME),
        "jti": jti, "sub": user_id, "sid": session_id, "events": {EVENT: {}},
    }


async def queue(services: Services, tx: Tx, session_id: str, user_id: str) -> int:
    """Queue one logout token for every application that holds tokens of the ended session;
    returns how many were queued."""
    queued = 0
    for client_id in await clients_of_session(tx, session_id):
        found = await app_store.find_by_client_id(tx.conn, client_id)
        app = found[0] if found else None
        uri = app.oidc.back_channel_logout_uri if app is not None and app.oidc is not None else ""
        if not uri:
            continue
        jti = tx.new_id()
        token = await services.keyring.sign(
            claims(issuer=services.settings.issuer, client_id=client_id, user_id=user_id,
                   session_id=session_id, jti=jti, now=tx.now), typ="logout+jwt")
        await tx.conn.execute(t.outbox.insert().values(
            id=jti, kind=KIND, destination=uri,
            payload={"logout_token": token, "client_id": client_id, "session_id": session_id, "user_id": user_id},
            attempts=0, max_attempts=MAX_ATTEMPTS, available_at=tx.now, created_at=tx.now))
        queued += 1
    return queued


async def end_session(services: Services, tx: Tx, session_id: str) -> bool:
    """End one login session: terminate it, revoke every token issued in it, queue its logout
    tokens. True only for the call that ended it (a second end queues nothing)."""
    ended = await session_store.terminate(tx, session_id)
    if ended:
        session = await session_store.get(tx.conn, session_id)
        if session is not None and session.user_id:
            await queue(services, tx, session_id, session.user_id)
    await token_store.revoke_session(tx, session_id)
    return ended


async def end_user_sessions(services: Services, tx: Tx, user_id: str) -> list[str]:
    """End every live session of a user (deactivated, locked, removed); returns the ended ids."""
    ended = await session_store.terminate_for_user(tx, user_id)
    for session_id in ended:
        await queue(services, tx, session_id, user_id)
        await token_store.revoke_session(tx, session_id)
    return ended
