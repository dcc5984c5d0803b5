"""Signing keys at rest: the public JWK in clear, the private JWK sealed with AES-GCM under a key
derived from the master key, bound to its `kid`."""

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


async def current(conn: AsyncConnection, now: datetime) -> SigningKey | None:
    """The key that signs now: the newest unretired key whose `signs_from` has passed."""
    query = sa.select(K).where(K.c.retired_at.is_(None), K.c.signs_from <= now)
    row = (await conn.execute(query.order_by(K.c.signs_from.desc(), K.c.kid.desc()).limit(1))).first()
    return _key(row) if row else None


async def retire(tx: Tx, kid: str, *, published_until: datetime) -> None:
    await tx.event("instance", "signing_keys", "instance.signing_key.retired", {"kid": kid}, resource_owner=None)
    await tx.conn.execute(K.update().where(K.c.kid == kid, K.c.retired_at.is_(None))
                          .values(retired_at=tx.now, published_until=published_until))
