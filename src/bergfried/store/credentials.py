"""Machine users' personal access tokens and keys. Tokens are kept as keyed hashes only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.common import ObjectDetails
from bergfried.domain.users import MachineUser, User, UserState
from bergfried.errors import NotFound, PreconditionFailed
from bergfried.store import tables as t
from bergfried.store._common import added, changed
from bergfried.store.tx import Tx

NO_EXPIRY = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)  # ZITADEL's default expiration
# ZITADEL gives every PAT this fixed scope (spec/other-grants.md §4).
PAT_SCOPES = ("openid", "profile", "urn:zitadel:iam:user:metadata", "urn:zitadel:iam:user:resourceowner")


@dataclass(frozen=True, slots=True)
class PersonalAccessToken:
    id: str
    user_id: str
    org_id: str
    scopes: tuple[str, ...]
    expires_at: datetime
    created_at: datetime | None = None


def _machine_only(user: User) -> MachineUser:
    if not isinstance(user, MachineUser):
        raise PreconditionFailed("Errors.User.WrongType", "User is not a machine user", error_id="COMMAND-Sfr42")
    return user


async def add_pat(
    tx: Tx, user: User, token_hash: str, *, expires_at: datetime | None = None,
    scopes: tuple[str, ...] = PAT_SCOPES,
) -> tuple[str, ObjectDetails]:
    machine = _machine_only(user)
    pat_id = tx.new_id()
    sequence = await tx.event("user", machine.id, "user.personal.access.token.added", {"tokenId": pat_id},
                              resource_owner=machine.org_id)
    await tx.conn.execute(t.personal_access_tokens.insert().values(
        id=pat_id, user_id=machine.id, token_hash=token_hash, scopes=list(scopes),
        expires_at=expires_at or NO_EXPIRY, created_at=tx.now, changed_at=tx.now, sequence=sequence,
    ))
    return pat_id, added(tx, sequence, machine.org_id)


async def find_pat(conn: AsyncConnection, token_hash: str, now: datetime) -> PersonalAccessToken | None:
    """One indexed query: the token's hash, unexpired, its user active."""
    p, u = t.personal_access_tokens, t.users
    row = (await conn.execute(
        sa.select(p.c.id, p.c.user_id, u.c.org_id, p.c.scopes, p.c.expires_at, p.c.created_at)
        .join(u, u.c.id == p.c.user_id)
        .where(p.c.token_hash == token_hash, p.c.expires_at > now, u.c.state == UserState.ACTIVE)
    )).first()
    if row is None:
        return None
    return PersonalAccessToken(id=row.id, user_id=row.user_id, org_id=row.org_id, scopes=tuple(row.scopes),
                               expires_at=row.expires_at, created_at=row.created_at)


async def list_pats(conn: AsyncConnection, user_id: str) -> list[PersonalAccessToken]:
    p = t.personal_access_tokens
    rows = await conn.execute(
        sa.select(p.c.id, p.c.user_id, p.c.scopes, p.c.expires_at, t.users.c.org_id)
        .join(t.users, t.users.c.id == p.c.user_id).where(p.c.user_id == user_id).order_by(p.c.id))
    return [PersonalAccessToken(id=r.id, user_id=r.user_id, org_id=r.org_id, scopes=tuple(r.scopes),
                                expires_at=r.expires_at) for r in rows]


async def remove_pat(tx: Tx, user: User, pat_id: str) -> ObjectDetails:
    p = t.personal_access_tokens
    result = await tx.conn.execute(p.delete().where(p.c.id == pat_id, p.c.user_id == user.id))
    if not result.rowcount:
        raise NotFound("Errors.User.PAT.NotFound", "Personal Access Token not found", error_id="COMMAND-4m9fS")
    sequence = await tx.event("user", user.id, "user.personal.access.token.removed", {"tokenId": pat_id},
                              resource_owner=user.org_id)
    return changed(tx, sequence, user.org_id)


async def add_machine_key(
    tx: Tx, user: User, public_key_pem: str, *, expires_at: datetime | None = None
) -> tuple[str, ObjectDetails]:
    machine = _machine_only(user)
    key_id = tx.new_id()
    sequence = await tx.event("user", machine.id, "user.machine.key.added", {"keyId": key_id},
                              resource_owner=machine.org_id)
    await tx.conn.execute(t.machine_keys.insert().values(
        id=key_id, user_id=machine.id, type="KEY_TYPE_JSON", public_key=public_key_pem,
        expires_at=expires_at or NO_EXPIRY, created_at=tx.now, changed_at=tx.now, sequence=sequence,
    ))
    return key_id, added(tx, sequence, machine.org_id)


async def machine_key(conn: AsyncConnection, user_id: str, key_id: str, now: datetime) -> str | None:
    """The PEM public key of an unexpired key of an active user, for JWT-profile assertions."""
    k = t.machine_keys
    return (await conn.execute(
        sa.select(k.c.public_key).join(t.users, t.users.c.id == k.c.user_id)
        .where(k.c.id == key_id, k.c.user_id == user_id, k.c.expires_at > now, t.users.c.state == UserState.ACTIVE)
    )).scalar_one_or_none()


def search_pats(user_id: str) -> sa.Select[Any]:
    """A user's personal access tokens with their details, for the API's list and get calls."""
    p = t.personal_access_tokens
    return sa.select(p.c.id, p.c.scopes, p.c.expires_at, p.c.sequence, p.c.created_at, p.c.changed_at,
                     t.users.c.org_id).join(t.users, t.users.c.id == p.c.user_id).where(p.c.user_id == user_id)


def search_machine_keys(user_id: str) -> sa.Select[Any]:
    k = t.machine_keys
    return sa.select(k.c.id, k.c.type, k.c.expires_at, k.c.sequence, k.c.created_at, k.c.changed_at,
                     t.users.c.org_id).join(t.users, t.users.c.id == k.c.user_id).where(k.c.user_id == user_id)


async def remove_machine_key(tx: Tx, user: User, key_id: str) -> ObjectDetails:
    k = t.machine_keys
    result = await tx.conn.execute(k.delete().where(k.c.id == key_id, k.c.user_id == user.id))
    if not result.rowcount:
        raise NotFound("Errors.User.Machine.Key.NotFound", "Machine key not found", error_id="COMMAND-4m77G")
    sequence = await tx.event("user", user.id, "user.machine.key.removed", {"keyId": key_id},
                              resource_owner=user.org_id)
    return changed(tx, sequence, user.org_id)
