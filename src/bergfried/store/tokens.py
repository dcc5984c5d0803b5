"""Authorization codes, access tokens and refresh tokens at rest: only keyed hashes of the
secrets, and conditional UPDATEs for everything single-use.

Every token a code redemption issues shares a `family_id`; a replayed code or a reused
rotated refresh token revokes the family (RFC 6749 §4.1.2, RFC 9700 §4.14.2). Lookups are one
query on a unique index; revocation and expiry are checked there, so every process sharing the
database sees a revocation at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.store import fast
from bergfried.store import tables as t
from bergfried.store.tx import Tx

C, AT, RT = t.authorization_codes, t.access_tokens, t.refresh_tokens


@dataclass(frozen=True, slots=True)
class Grant:
    """What a token stands for: who, for which client, with which scopes and audience."""

    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    audience: tuple[str, ...]
    session_id: str | None = None
    auth_time: datetime | None = None
    amr: tuple[str, ...] = ()
    actor: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class CodeRecord:
    grant: Grant
    redirect_uri: str
    created_at: datetime
    expires_at: datetime
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    auth_request_id: str | None = None
    response_type: str = "code"
    consumed_at: datetime | None = None
    family_id: str | None = None


@dataclass(frozen=True, slots=True)
class AccessTokenRecord:
    id: str
    format: str  # opaque | jwt
    grant: Grant
    created_at: datetime
    expires_at: datetime
    family_id: str | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RefreshTokenRecord:
    id: str
    family_id: str
    grant: Grant
    created_at: datetime
    idle_expires_at: datetime
    family_expires_at: datetime
    consumed_at: datetime | None = None
    revoked_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _grant_values(grant: Grant) -> dict[str, Any]:
    return {"client_id": grant.client_id, "user_id": grant.user_id, "scopes": list(grant.scopes),
            "audience": list(grant.audience), "session_id": grant.session_id, "auth_time": grant.auth_time,
            "amr": list(grant.amr)}


def _grant(row: Any, *, actor: bool = True) -> Grant:
    return Grant(client_id=row.client_id, user_id=row.user_id, scopes=tuple(row.scopes),
                 audience=tuple(row.audience), session_id=row.session_id, auth_time=row.auth_time,
                 amr=tuple(row.amr or ()), actor=row.actor if actor else None)


# --- authorization codes ----------------------------------------------------------------------

async def add_code(tx: Tx, code_hash: str, record: CodeRecord) -> None:
    await tx.conn.execute(C.insert().values(
        code_hash=code_hash, auth_request_id=record.auth_request_id, redirect_uri=record.redirect_uri,
        nonce=record.nonce, code_challenge=record.code_challenge, code_challenge_method=record.code_challenge_method,
        created_at=record.created_at, expires_at=record.expires_at, response_type=record.response_type,
        **_grant_values(record.grant),
    ))


def code_record(row: Any) -> CodeRecord:
    return CodeRecord(
        grant=_grant(row, actor=False), redirect_uri=row.redirect_uri, created_at=row.created_at,
        expires_at=row.expires_at, nonce=row.nonce, code_challenge=row.code_challenge,
        code_challenge_method=row.code_challenge_method, auth_request_id=row.auth_request_id,
        response_type=row.response_type, consumed_at=row.consumed_at, family_id=row.family_id,
    )


_CODE_BY_HASH = sa.select(C).where(C.c.code_hash == sa.bindparam("code_hash"))


async def get_code(conn: AsyncConnection, code_hash: str) -> CodeRecord | None:
    row = await fast.first(conn, _CODE_BY_HASH, {"code_hash": code_hash})
    return code_record(row) if row else None


_REDEEM_CODE = C.update().where(
    C.c.code_hash == sa.bindparam("key_hash"), C.c.consumed_at.is_(None), C.c.expires_at > sa.bindparam("now"),
).values(consumed_at=sa.bindparam("now"), family_id=sa.bindparam("new_family_id"))


async def redeem_code(tx: Tx, code_hash: str, family_id: str) -> bool:
    """Consume the code once: the conditional UPDATE's row count decides the one winner."""
    result = await tx.conn.execute(_REDEEM_CODE, {"key_hash": code_hash, "now": tx.now, "new_family_id": family_id})
    return bool(result.rowcount)


# --- access tokens ----------------------------------------------------------------------------

_INSERT_ACCESS_TOKEN, _INSERT_REFRESH_TOKEN = AT.insert(), RT.insert()


async def add_access_token(tx: Tx, record: AccessTokenRecord, token_hash: str | None) -> None:
    """Written when the transaction commits, with the response's other rows (store/deferred.py)."""
    tx.defer(_INSERT_ACCESS_TOKEN, {
        "id": record.id, "token_hash": token_hash, "format": record.format, "created_at": record.created_at,
        "expires_at": record.expires_at, "family_id": record.family_id, "actor": record.grant.actor,
        **_grant_values(record.grant),
    })


def _access(row: Any) -> AccessTokenRecord:
    return AccessTokenRecord(id=row.id, format=row.format, grant=_grant(row), created_at=row.created_at,
                             expires_at=row.expires_at, family_id=row.family_id, revoked_at=row.revoked_at)


def _active_access_token_statement(by: sa.ColumnElement[Any]) -> sa.Select[Any]:
    return sa.select(AT).outerjoin(t.sessions, t.sessions.c.id == AT.c.session_id).where(
        by, AT.c.revoked_at.is_(None), AT.c.expires_at > sa.bindparam("now"), t.sessions.c.terminated_at.is_(None))


# Built once: building a statement costs more CPU than PostgreSQL spends answering it, and
# SQLAlchemy finds the compiled form of the same object at once (issue 10 §3).
_ACTIVE_BY_HASH = _active_access_token_statement(AT.c.token_hash == sa.bindparam("key"))
_ACTIVE_BY_ID = _active_access_token_statement(AT.c.id == sa.bindparam("key"))


async def active_access_token(conn: AsyncConnection, now: datetime, *, token_hash: str | None = None,
                              token_id: str | None = None) -> AccessTokenRecord | None:
    """An unexpired, unrevoked access token by the hash of an opaque token or a JWT's `jti`,
    whose session (if any) has not ended: one indexed query."""
    if token_hash is not None:
        statement, key = _ACTIVE_BY_HASH, token_hash
    elif token_id is not None:
        statement, key = _ACTIVE_BY_ID, token_id
    else:
        return None
    row = (await conn.execute(statement, {"key": key, "now": now})).first()
    return _access(row) if row else None


async def revoke_access_token(tx: Tx, token_id: str) -> bool:
    result = await tx.conn.execute(AT.update().where(AT.c.id == token_id, AT.c.revoked_at.is_(None))
                                   .values(revoked_at=tx.now))
    return bool(result.rowcount)


async def revoke_family(tx: Tx, family_id: str) -> int:
    """Revoke every access and refresh token of a family; returns how many were live."""
    count = (await tx.conn.execute(AT.update().where(AT.c.family_id == family_id, AT.c.revoked_at.is_(None))
                                   .values(revoked_at=tx.now))).rowcount
    count += (await tx.conn.execute(RT.update().where(RT.c.family_id == family_id, RT.c.revoked_at.is_(None))
                                    .values(revoked_at=tx.now))).rowcount
    return int(count)


async def revoke_session(tx: Tx, session_id: str) -> int:
    """Revoke every token issued in a session (logout)."""
    count = (await tx.conn.execute(AT.update().where(AT.c.session_id == session_id, AT.c.revoked_at.is_(None))
                                   .values(revoked_at=tx.now))).rowcount
    count += (await tx.conn.execute(RT.update().where(RT.c.session_id == session_id, RT.c.revoked_at.is_(None))
                                    .values(revoked_at=tx.now))).rowcount
    return int(count)


# --- refresh tokens ---------------------------------------------------------------------------

async def add_refresh_token(tx: Tx, record: RefreshTokenRecord, token_hash: str) -> None:
    """Written when the transaction commits, with the response's other rows (store/deferred.py)."""
    tx.defer(_INSERT_REFRESH_TOKEN, {
        "id": record.id, "token_hash": token_hash, "family_id": record.family_id, "created_at": record.created_at,
        "idle_expires_at": record.idle_expires_at, "family_expires_at": record.family_expires_at,
        "actor": record.grant.actor, **_grant_values(record.grant),
    })


def refresh_record(row: Any) -> RefreshTokenRecord:
    return RefreshTokenRecord(id=row.id, family_id=row.family_id, grant=_grant(row), created_at=row.created_at,
                              idle_expires_at=row.idle_expires_at, family_expires_at=row.family_expires_at,
                              consumed_at=row.consumed_at, revoked_at=row.revoked_at)


_REFRESH_BY_HASH = sa.select(RT).where(RT.c.token_hash == sa.bindparam("token_hash"))


async def get_refresh_token(conn: AsyncConnection, token_hash: str) -> RefreshTokenRecord | None:
    row = await fast.first(conn, _REFRESH_BY_HASH, {"token_hash": token_hash})
    return refresh_record(row) if row else None


_CONSUME_REFRESH_TOKEN = RT.update().where(
    RT.c.id == sa.bindparam("token_id"), RT.c.consumed_at.is_(None), RT.c.revoked_at.is_(None),
    RT.c.idle_expires_at > sa.bindparam("now"), RT.c.family_expires_at > sa.bindparam("now"),
).values(consumed_at=sa.bindparam("now"))


async def consume_refresh_token(tx: Tx, token_id: str) -> bool:
    """Rotate: the presented refresh token is used up by the first of any racing requests."""
    result = await tx.conn.execute(_CONSUME_REFRESH_TOKEN, {"token_id": token_id, "now": tx.now})
    return bool(result.rowcount)


async def revoke_refresh_token(tx: Tx, token_id: str) -> bool:
    result = await tx.conn.execute(RT.update().where(RT.c.id == token_id, RT.c.revoked_at.is_(None))
                                   .values(revoked_at=tx.now))
    return bool(result.rowcount)
