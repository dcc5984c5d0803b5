"""Signing keys at rest on both engines: sealed private JWK, rotation windows."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bergfried.crypto import masterkey
from bergfried.crypto.aead import DecryptionError, Sealer
from bergfried.keys.generate import Algorithm
from bergfried.store import signing_keys
from bergfried.store import tables as t
from bergfried.store.tx import Store, utcnow
from tests.conftest import MASTERKEY

SEALER = Sealer(masterkey.from_text(MASTERKEY), "signing-keys")


async def test_private_jwk_opens_only_with_its_master_key_and_kid_and_is_not_stored_in_clear(store: Store) -> None:
    now = utcnow()
    async with store.write() as tx:
        key = await signing_keys.create(tx, SEALER, Algorithm.ES256, signs_from=now)
    async with store.read() as conn:
        private = await signing_keys.private_jwk(conn, SEALER, key.kid)
        row = (await conn.execute(sa.select(t.signing_keys).where(t.signing_keys.c.kid == key.kid))).one()
    assert private["kid"] == key.kid
    assert private["alg"] == "ES256"
    assert private["use"] == "sig"
    assert private["x"] == key.public_jwk["x"]
    assert private["y"] == key.public_jwk["y"]
    assert "d" in private
    assert "d" not in key.public_jwk
    blob = bytes(row.private_key_sealed)
    assert private["d"].encode() not in blob
    assert json.dumps(private).encode() not in blob
    assert b'"d"' not in blob
    assert "d" not in row.public_jwk
    other_sealer = Sealer(masterkey.from_text("x" * 32), "signing-keys")
    with pytest.raises(DecryptionError):
        async with store.read() as conn:
            await signing_keys.private_jwk(conn, other_sealer, key.kid)
    async with store.write() as tx:  # a blob copied onto another key's row does not open there
        second = await signing_keys.create(tx, SEALER, Algorithm.ES256, signs_from=now)
        await tx.conn.execute(t.signing_keys.update().where(t.signing_keys.c.kid == second.kid)
                              .values(private_key_sealed=blob))
    with pytest.raises(DecryptionError):
        async with store.read() as conn:
            await signing_keys.private_jwk(conn, SEALER, second.kid)


async def test_current_published_and_retire_follow_the_rotation_windows(store: Store) -> None:
    now = utcnow()
    async with store.write() as tx:
        old = await signing_keys.create(tx, SEALER, Algorithm.ES256, signs_from=now - timedelta(hours=1))
        upcoming = await signing_keys.create(tx, SEALER, Algorithm.ES256, signs_from=now + timedelta(hours=1))
    async with store.read() as conn:
        current = await signing_keys.current(conn, now)
        published = await signing_keys.published(conn, now)
    assert current is not None
    assert current.kid == old.kid
    assert [k.kid for k in published] == [upcoming.kid, old.kid]
    async with store.write() as tx:
        await signing_keys.retire(tx, old.kid, at=now, published_until=now + timedelta(hours=12))
    async with store.read() as conn:
        assert await signing_keys.current(conn, now) is None
        before_retirement = await signing_keys.current(conn, now - timedelta(seconds=1))
    assert before_retirement is not None
    assert before_retirement.kid == old.kid  # retired as of `at`, not before
    async with store.read() as conn:
        after_switch = await signing_keys.current(conn, now + timedelta(hours=2))
        still_published = await signing_keys.published(conn, now + timedelta(hours=2))
        later = await signing_keys.published(conn, now + timedelta(hours=13))
    assert after_switch is not None
    assert after_switch.kid == upcoming.kid
    retired = next(k for k in still_published if k.kid == old.kid)
    assert retired.retired_at is not None
    assert retired.published_until == now + timedelta(hours=12)
    assert [k.kid for k in later] == [upcoming.kid]
