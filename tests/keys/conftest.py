"""A key ring over the test database with a clock the test moves: cache periods and rotation
windows are crossed by setting the time, never by sleeping."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bergfried.crypto import masterkey
from bergfried.crypto.aead import Sealer
from bergfried.keys.keyring import KeyRing
from bergfried.store.tx import Store, utcnow
from tests.conftest import MASTERKEY

ISSUER = "http://localhost:8080"


class MovableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta

    @staticmethod
    def start() -> datetime:
        return utcnow().replace(microsecond=0)


def new_sealer(key: str = MASTERKEY) -> Sealer:
    return Sealer(masterkey.from_text(key), "signing-keys")


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(MovableClock.start())


@pytest.fixture
def keyring(store: Store, clock: MovableClock) -> KeyRing:
    return KeyRing(store, new_sealer(), issuer=ISSUER, clock=clock)
