"""The signing keys as every process sees them: sign with the current key, verify against the
published ones, serve the JWKS, rotate.

The database is the only shared state, so several processes (workers, `bergfried keys rotate`)
agree without talking to each other. Each process keeps one snapshot of the keys for at most
`CACHE_TTL`, and never past the next instant the rows themselves announce (a scheduled
`signs_from`, `retired_at` or `published_until`), so a rotation made here switches exactly on time
and one made by another process is seen within `CACHE_TTL`.

Rotation timing (RFC 7517 §5 key sets; OIDC Core §10.1.1 signing key rotation):
- a new key is published at once and signs only after `publish_ahead`: clients that cached the
  JWKS (`JWKS_MAX_AGE`, spec/endpoints.md §1) from any process (`CACHE_TTL` behind) have seen it
  by then;
- the keys it replaces stop signing at that instant and stay published for `keep_published`
  (the longest token lifetime), so every token they signed still verifies until it expires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from joserfc.jwk import Key, import_key

from bergfried.crypto.aead import Sealer
from bergfried.errors import InvalidToken, ServerError
from bergfried.keys import jose
from bergfried.keys.generate import Algorithm
from bergfried.store import instances, signing_keys
from bergfried.store.signing_keys import SigningKey
from bergfried.store.tx import Store, utcnow

Clock = Callable[[], datetime]

JWKS_MAX_AGE = timedelta(minutes=5)  # spec/endpoints.md §1 (OIDC.JWKSCacheControlMaxAge)
CACHE_TTL = timedelta(seconds=30)
UNKNOWN_KID_RELOAD_INTERVAL = timedelta(seconds=10)  # an unknown kid reloads the keys at most this often
PUBLISH_AHEAD = JWKS_MAX_AGE + CACHE_TTL


@dataclass(frozen=True, slots=True)
class _Verifier:
    alg: str
    key: Key


@dataclass(frozen=True, slots=True)
class _Signer:
    kid: str
    alg: str
    key: Key


@dataclass(frozen=True, slots=True)
class _Snapshot:
    signer: _Signer | None
    verifiers: dict[str, _Verifier]
    jwks: bytes
    loaded_at: datetime
    valid_until: datetime

    def fresh(self, now: datetime) -> bool:
        return self.loaded_at <= now < self.valid_until


def _next_change(keys: list[SigningKey], now: datetime, limit: datetime) -> datetime:
    """The first instant after `now` at which the rows say the key set changes, capped at `limit`."""
    instants = [t for k in keys for t in (k.signs_from, k.retired_at, k.published_until) if t and t > now]
    return min([limit, *instants])


class KeyRing:
    def __init__(self, store: Store, sealer: Sealer, *, issuer: str, clock: Clock = utcnow,
                 cache_ttl: timedelta = CACHE_TTL) -> None:
        self.store = store
        self.issuer = issuer  # whose keys these are; token builders read it from here
        self._sealer = sealer
        self._clock = clock
        self._ttl = cache_ttl
        self._snapshot: _Snapshot | None = None
        self._private: dict[str, Key] = {}  # by kid: a key's private half never changes
        self._last_forced_reload: datetime | None = None

    # --- reading -----------------------------------------------------------------------------

    async def _load(self, now: datetime) -> _Snapshot:
        signer: _Signer | None = None
        async with self.store.read_within() as conn:
            published = await signing_keys.published(conn, now)
            current = await signing_keys.current(conn, now)
            if current is not None:
                key = self._private.get(current.kid)
                if key is None:
                    key = import_key(await signing_keys.private_jwk(conn, self._sealer, current.kid))
                signer = _Signer(current.kid, current.algorithm, key)
        self._private = {signer.kid: signer.key} if signer else {}
        verifiers = {k.kid: _Verifier(k.algorithm, import_key(k.public_jwk)) for k in published}
        jwks = orjson.dumps({"keys": [jose.public_jwk(k.public_jwk) for k in published]})
        snapshot = _Snapshot(signer, verifiers, jwks, now, _next_change(published, now, now + self._ttl))
        self._snapshot = snapshot
        return snapshot

    async def _keys(self) -> _Snapshot:
        now = self._clock()
        snapshot = self._snapshot
        if snapshot is not None and snapshot.fresh(now):
            return snapshot
        return await self._load(now)

    async def _signer(self) -> _Signer:
        signer = (await self._keys()).signer
        if signer is None:
            raise ServerError("Errors.Internal", detail="no signing key is active (bergfried keys rotate makes one)")
        return signer

    # --- the operations ----------------------------------------------------------------------

    async def sign(self, claims: dict[str, Any], *, typ: str = "JWT") -> str:
        """RFC 7515 §7.1 compact JWS with `alg`, `kid`, `typ` in the protected header."""
        signer = await self._signer()
        return jose.sign(claims, signer.key, alg=signer.alg, kid=signer.kid, typ=typ)

    async def current_algorithm(self) -> str:
        """The `alg` the next signature will use (OIDC Core §3.1.3.6 at_hash, §3.3.2.11 c_hash)."""
        return (await self._signer()).alg

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims once the signature verifies against the published key named by `kid`.
        Signature only: `exp`, `iss`, `aud` are the caller's to check."""
        header, obj = jose.parse(token)
        kid = header["kid"]
        verifier = (await self._keys()).verifiers.get(kid)
        if verifier is None and self._may_force_reload():
            verifier = (await self._load(self._clock())).verifiers.get(kid)
        if verifier is None:
            raise InvalidToken("unknown signing key")
        return jose.check(obj, verifier.key, verifier.alg)

    def _may_force_reload(self) -> bool:
        """A kid we don't know may be a key another process just made; look once, but never let
        a stream of made-up kids turn into a stream of queries."""
        now = self._clock()
        last = self._last_forced_reload
        if last is not None and last <= now < last + UNKNOWN_KID_RELOAD_INTERVAL:
            return False
        self._last_forced_reload = now
        return True

    async def jwks_json(self) -> bytes:
        """RFC 7517 §5: `{"keys": [...]}` with every published public key, as served."""
        return (await self._keys()).jwks

    # --- writing -----------------------------------------------------------------------------

    async def ensure_key(self, algorithm: Algorithm | str) -> None:
        """Make a key that signs from now, unless one signs already (first start)."""
        now = self._clock()
        async with self.store.write() as tx:
            await instances.lock(tx)
            if await signing_keys.current(tx.conn, now) is None:
                await signing_keys.create(tx, self._sealer, Algorithm(algorithm), signs_from=now)
        self._snapshot = None

    async def rotate(self, algorithm: Algorithm | str, *, publish_ahead: timedelta = PUBLISH_AHEAD,
                     keep_published: timedelta) -> SigningKey:
        """Publish a new key now; it signs from now + `publish_ahead`, when every other key stops
        signing and stays published for `keep_published` more. With no key signing now there is
        nothing to replace and nobody to warn, so the new key signs at once."""
        now = self._clock()
        async with self.store.write() as tx:
            await instances.lock(tx)
            current = await signing_keys.current(tx.conn, now)
            if current is not None:  # DecryptionError: a master key the servers don't have seals nothing
                await signing_keys.private_jwk(tx.conn, self._sealer, current.kid)
            switch = now + publish_ahead if current else now
            key = await signing_keys.create(tx, self._sealer, Algorithm(algorithm), signs_from=switch)
            await signing_keys.supersede(tx, key.kid, at=switch, published_until=switch + keep_published)
        self._snapshot = None
        return key
