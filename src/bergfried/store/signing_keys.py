"""Signing keys at rest: the public JWK in clear, the private JWK sealed with AES-GCM under a key
derived from the master key, bound to its `kid`.

A key's life is a set of instants, so every process reads the same state from the rows alone:
published from `created_at`, signs from `signs_from`, stops signing at `retired_at` (which may
lie in the future: a rotation schedules it), leaves the JWKS after `published_until`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.crypto.aead import Sealer
from bergfried.keys.generate import Algorithm, generate
from bergfried.store import tables as t
from bergfried.store.tx import Tx

K = t.signing_keys


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    algorithm: str
    public_jwk: dict[str, Any]
    signs_from: datetime
    retired_at: datetime | None
    published_until: datetime | None


def _key(row: Any) -> SigningKey:
    return SigningKey(kid=row.kid, algorithm=row.algorithm, public_jwk=dict(row.public_jwk),
                      signs_from=row.signs_from, retired_at=row.retired_at, published_until=row.published_until)


async def create(tx: Tx, sealer: Sealer, algorithm: Algorithm, *, signs_from: datetime) -> SigningKey:
    kid = tx.new_id()
    public, private = generate(algorithm, kid)
    sealed = sealer.seal(json.dumps(private).encode(), associated=kid.encode())
    await tx.event("instance", "signing_keys", "instance.signing_key.added", {"kid": kid, "alg": str(algorithm)},
                   resource_owner=None)
    await tx.conn.execute(K.insert().values(
        kid=kid, algorithm=str(algorithm), public_jwk=public, private_key_sealed=sealed, created_at=tx.now,
        signs_from=signs_from,
    ))
    return SigningKey(kid=kid, algorithm=str(algorithm), public_jwk=public, signs_from=signs_from, retired_at=None,
                      published_until=None)


async def private_jwk(conn: AsyncConnection, sealer: Sealer, kid: str) -> dict[str, Any]:
    sealed = (await conn.execute(sa.select(K.c.private_key_sealed).where(K.c.kid == kid))).scalar_one()
    loaded: dict[str, Any] = json.loads(sealer.open(bytes(sealed), associated=kid.encode()))
    return loaded


async def published(conn: AsyncConnection, now: datetime) -> list[SigningKey]:
    """Keys in the JWKS: every key not yet past its publication end, newest first."""
    query = sa.select(K).where(sa.or_(K.c.published_until.is_(None), K.c.published_until > now))
    return [_key(r) for r in await conn.execute(query.order_by(K.c.signs_from.desc(), K.c.kid.desc()))]


def _signs_at(at: datetime) -> sa.ColumnElement[bool]:
    """Not retired as of `at` (a retirement scheduled for later does not count yet)."""
    return sa.or_(K.c.retired_at.is_(None), K.c.retired_at > at)


async def current(conn: AsyncConnection, now: datetime) -> SigningKey | None:
    """The key that signs now: the newest key whose `signs_from` has passed and that is not
    retired as of now."""
    query = sa.select(K).where(_signs_at(now), K.c.signs_from <= now)
    row = (await conn.execute(query.order_by(K.c.signs_from.desc(), K.c.kid.desc()).limit(1))).first()
    return _key(row) if row else None


async def retire(tx: Tx, kid: str, *, published_until: datetime, at: datetime | None = None) -> bool:
    """Stop `kid` signing at `at` (default: now). A retirement already due earlier is kept.
    Returns whether the row changed."""
    at = tx.now if at is None else at
    result = await tx.conn.execute(K.update().where(K.c.kid == kid, _signs_at(at))
                                   .values(retired_at=at, published_until=published_until))
    if not result.rowcount:
        return False
    await tx.event("instance", "signing_keys", "instance.signing_key.retired",
                   {"kid": kid, "retired_at": at.isoformat(), "published_until": published_until.isoformat()},
                   resource_owner=None)
    return True


async def supersede(tx: Tx, kid: str, *, at: datetime, published_until: datetime) -> list[str]:
    """Retire, at `at`, every key but `kid` that would still sign then; returns their kids."""
    query = sa.select(K.c.kid).where(K.c.kid != kid, _signs_at(at)).order_by(K.c.kid)
    others = list((await tx.conn.execute(query)).scalars())
    return [other for other in others if await retire(tx, other, published_until=published_until, at=at)]
