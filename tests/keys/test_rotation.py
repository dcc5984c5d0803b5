"""Key rotation on both engines, with clocks moved instead of sleeps: a new key is published before
it signs, the old one stays published as long as its tokens live, and a second key ring over the
same database (another process) follows within its cache period."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import orjson
import pytest
import sqlalchemy as sa

from bergfried.crypto.aead import DecryptionError
from bergfried.errors import InvalidToken
from bergfried.keys.generate import Algorithm
from bergfried.keys.keyring import CACHE_TTL, JWKS_MAX_AGE, PUBLISH_AHEAD, UNKNOWN_KID_RELOAD_INTERVAL, KeyRing
from bergfried.store import signing_keys
from bergfried.store import tables as t
from bergfried.store.tx import Store
from tests.keys.conftest import ISSUER, MovableClock, new_sealer

AHEAD = timedelta(minutes=5)
KEEP = timedelta(hours=12)
SECOND = timedelta(seconds=1)
ROTATION = "OIDC Core §10.1.1, RFC 7517 §5"


def kid_of(token: str) -> str:
    return str(json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==="))["kid"])


async def jwks_kids(keyring: KeyRing) -> list[str]:
    return [key["kid"] for key in orjson.loads(await keyring.jwks_json())["keys"]]


async def signing_kid(keyring: KeyRing) -> str:
    return kid_of(await keyring.sign({"sub": "1"}))


async def only_kid(store: Store) -> str:
    async with store.read() as conn:
        return str((await conn.execute(sa.select(t.signing_keys.c.kid))).scalar_one())


@pytest.mark.rule(ROTATION)
async def test_a_new_key_is_published_at_once_and_signs_only_from_signs_from(keyring: KeyRing,
                                                                           clock: MovableClock,
                                                                           store: Store) -> None:
    await keyring.ensure_key(Algorithm.RS256)
    old = await only_kid(store)
    new = await keyring.rotate(Algorithm.ES256, publish_ahead=AHEAD, keep_published=KEEP)
    assert new.signs_from == clock.now + AHEAD
    assert await jwks_kids(keyring) == [new.kid, old]  # published now, newest first
    assert await signing_kid(keyring) == old
    clock.advance(AHEAD - SECOND)
    assert await signing_kid(keyring) == old
    assert await keyring.current_algorithm() == "RS256"
    clock.advance(SECOND)
    assert await signing_kid(keyring) == new.kid  # exactly at signs_from, without waiting for the cache
    assert await keyring.current_algorithm() == "ES256"
    assert await jwks_kids(keyring) == [new.kid, old]


@pytest.mark.rule(ROTATION)
async def test_the_old_key_stays_published_until_its_last_token_expires_then_leaves_the_jwks(
        keyring: KeyRing, clock: MovableClock, store: Store) -> None:
    await keyring.ensure_key(Algorithm.EDDSA)
    old = await only_kid(store)
    new = await keyring.rotate(Algorithm.EDDSA, publish_ahead=AHEAD, keep_published=KEEP)
    clock.advance(AHEAD - SECOND)
    last_old_token = await keyring.sign({"sub": "last"})
    assert kid_of(last_old_token) == old
    clock.advance(SECOND + KEEP - SECOND)
    assert await jwks_kids(keyring) == [new.kid, old]
    assert await keyring.verify(last_old_token) == {"sub": "last"}
    clock.advance(SECOND)
    assert await jwks_kids(keyring) == [new.kid]
    with pytest.raises(InvalidToken):
        await keyring.verify(last_old_token)
    async with store.read() as conn:
        retired = next(k for k in await signing_keys.published(conn, new.signs_from) if k.kid == old)
    assert retired.retired_at == new.signs_from
    assert retired.published_until == new.signs_from + KEEP


@pytest.mark.rule(ROTATION)
async def test_rotation_defaults_publish_for_the_jwks_cache_age_plus_the_servers_own_cache(
        keyring: KeyRing, clock: MovableClock) -> None:
    await keyring.ensure_key(Algorithm.RS256)
    new = await keyring.rotate(Algorithm.RS256, keep_published=KEEP)
    assert PUBLISH_AHEAD == JWKS_MAX_AGE + CACHE_TTL == timedelta(seconds=330)
    assert new.signs_from == clock.now + PUBLISH_AHEAD


async def test_rotating_with_no_key_signing_makes_one_that_signs_at_once(keyring: KeyRing,
                                                                         clock: MovableClock) -> None:
    new = await keyring.rotate(Algorithm.ES256, publish_ahead=AHEAD, keep_published=KEEP)
    assert new.signs_from == clock.now
    assert await signing_kid(keyring) == new.kid


async def test_a_second_rotation_before_the_switch_supersedes_the_pending_key(keyring: KeyRing,
                                                                             clock: MovableClock,
                                                                             store: Store) -> None:
    await keyring.ensure_key(Algorithm.RS256)
    first = await only_kid(store)
    pending = await keyring.rotate(Algorithm.RS256, publish_ahead=AHEAD, keep_published=KEEP)
    latest = await keyring.rotate(Algorithm.ES256, publish_ahead=timedelta(0), keep_published=KEEP)
    assert await signing_kid(keyring) == latest.kid
    clock.advance(AHEAD + SECOND)  # the pending key's signs_from passes: it must not take over
    assert await signing_kid(keyring) == latest.kid
    assert set(await jwks_kids(keyring)) == {first, pending.kid, latest.kid}


async def test_rotating_with_a_master_key_that_cannot_open_the_current_key_changes_nothing(
        keyring: KeyRing, store: Store, clock: MovableClock) -> None:
    await keyring.ensure_key(Algorithm.RS256)
    stranger = KeyRing(store, new_sealer("y" * 32), issuer=ISSUER, clock=clock)
    with pytest.raises(DecryptionError):
        await stranger.rotate(Algorithm.RS256, keep_published=KEEP)
    async with store.read() as conn:
        rows = (await conn.execute(sa.select(t.signing_keys.c.retired_at))).scalars().all()
    assert rows == [None]


@pytest.mark.rule(ROTATION)
async def test_another_process_sees_a_rotation_after_its_cache_period(store: Store) -> None:
    here_clock = MovableClock(MovableClock.start())
    there_clock = MovableClock(here_clock.now)
    here = KeyRing(store, new_sealer(), issuer=ISSUER, clock=here_clock)
    there = KeyRing(store, new_sealer(), issuer=ISSUER, clock=there_clock)
    await here.ensure_key(Algorithm.RS256)
    old = await signing_kid(there)  # the other process has loaded and cached the keys
    new = await here.rotate(Algorithm.ES256, publish_ahead=AHEAD, keep_published=KEEP)
    assert await jwks_kids(here) == [new.kid, old]
    there_clock.advance(CACHE_TTL - SECOND)
    assert await jwks_kids(there) == [old]  # still its cached bytes
    there_clock.advance(SECOND)
    assert await jwks_kids(there) == [new.kid, old]
    assert await signing_kid(there) == old
    there_clock.advance(AHEAD)
    here_clock.advance(CACHE_TTL + AHEAD)
    assert await signing_kid(there) == new.kid
    assert await signing_kid(here) == new.kid


@pytest.mark.rule("RFC 7517 §4.5")
async def test_an_unknown_kid_reloads_the_keys_once_then_only_after_the_reload_interval(store: Store) -> None:
    here_clock = MovableClock(MovableClock.start())
    there_clock = MovableClock(here_clock.now)  # same instant: no key change falls due in between
    here = KeyRing(store, new_sealer(), issuer=ISSUER, clock=here_clock)
    there = KeyRing(store, new_sealer(), issuer=ISSUER, clock=there_clock)
    await here.ensure_key(Algorithm.RS256)
    await there.verify(await here.sign({"sub": "0"}))  # `there` has cached the first key
    await here.rotate(Algorithm.ES256, publish_ahead=timedelta(0), keep_published=KEEP)
    second = await here.sign({"sub": "1"})
    assert await there.verify(second) == {"sub": "1"}  # unknown kid: one reload finds the new key
    await here.rotate(Algorithm.EDDSA, publish_ahead=timedelta(0), keep_published=KEEP)
    third = await here.sign({"sub": "2"})
    there_clock.advance(UNKNOWN_KID_RELOAD_INTERVAL - SECOND)
    with pytest.raises(InvalidToken):
        await there.verify(third)  # too soon for another reload, and the cache is still fresh
    there_clock.advance(SECOND)
    assert await there.verify(third) == {"sub": "2"}
