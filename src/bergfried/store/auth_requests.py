"""Authorization requests: created by authorize, completed by the login, consumed once by the
callback. Completion and consumption are conditional UPDATEs, so a request is answered once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.auth_requests import AuthRequest
from bergfried.store import tables as t
from bergfried.store.tx import Tx

AR = t.auth_requests


def _request(row: Any) -> AuthRequest:
    return AuthRequest(
        id=row.id, client_id=row.client_id, redirect_uri=row.redirect_uri, scopes=tuple(row.scopes),
        response_type=row.response_type, created_at=row.created_at, expires_at=row.expires_at,
        response_mode=row.response_mode, state=row.state, nonce=row.nonce, code_challenge=row.code_challenge,
        code_challenge_method=row.code_challenge_method, prompt=tuple(row.prompt), max_age=row.max_age,
        login_hint=row.login_hint, ui_locales=tuple(row.ui_locales), hint_user_id=row.hint_user_id,
        user_agent_id=row.user_agent_id, session_id=row.session_id, user_id=row.user_id, auth_time=row.auth_time,
        amr=tuple(row.amr or ()),
        error=row.error, error_description=row.error_description, consumed_at=row.consumed_at,
        login_client=row.login_client,
    )


async def create(tx: Tx, request: AuthRequest) -> None:
    await tx.conn.execute(AR.insert().values(
        id=request.id, client_id=request.client_id, redirect_uri=request.redirect_uri, scopes=list(request.scopes),
        response_type=request.response_type, response_mode=request.response_mode, state=request.state,
        nonce=request.nonce, code_challenge=request.code_challenge,
        code_challenge_method=request.code_challenge_method, prompt=list(request.prompt), max_age=request.max_age,
        login_hint=request.login_hint, ui_locales=list(request.ui_locales), hint_user_id=request.hint_user_id,
        user_agent_id=request.user_agent_id, created_at=request.created_at, expires_at=request.expires_at,
        login_client=request.login_client,
    ))


async def get(conn: AsyncConnection, request_id: str) -> AuthRequest | None:
    if "\x00" in request_id:  # no id holds one, and PostgreSQL refuses NUL in text
        return None
    row = (await conn.execute(sa.select(AR).where(AR.c.id == request_id))).first()
    return _request(row) if row else None


def _open(request_id: str, now: datetime) -> Any:
    return sa.and_(AR.c.id == request_id, AR.c.consumed_at.is_(None), AR.c.expires_at > now)


async def bind_user_agent(tx: Tx, request_id: str, user_agent_id: str) -> bool:
    """Tie an open request to the first browser that shows it to a user. False when another
    browser holds it: a login link sent to someone else must not log them in for the sender,
    who could otherwise fetch the code from the callback (login CSRF / session swap)."""
    result = await tx.conn.execute(AR.update().where(
        _open(request_id, tx.now), sa.or_(AR.c.user_agent_id.is_(None), AR.c.user_agent_id == user_agent_id),
    ).values(user_agent_id=user_agent_id))
    return bool(result.rowcount)


async def link_session(tx: Tx, request_id: str, *, session_id: str, user_id: str, auth_time: datetime,
                       amr: list[str]) -> bool:
    """The login succeeded. False when the request is unknown, expired or already consumed."""
    result = await tx.conn.execute(AR.update().where(_open(request_id, tx.now)).values(
        session_id=session_id, user_id=user_id, auth_time=auth_time, amr=amr, error=None, error_description=None,
    ))
    return bool(result.rowcount)


async def fail(tx: Tx, request_id: str, *, error: str, description: str) -> bool:
    """The login ended without a user (for example `prompt=none` without a session:
    `interaction_required`); the callback redirects the error to the client."""
    result = await tx.conn.execute(AR.update().where(_open(request_id, tx.now)).values(
        error=error, error_description=description[:500],
    ))
    return bool(result.rowcount)


async def consume(tx: Tx, request_id: str) -> bool:
    """Answer the request once: the first caller gets True, every later one False."""
    result = await tx.conn.execute(AR.update().where(_open(request_id, tx.now)).values(consumed_at=tx.now))
    return bool(result.rowcount)
