"""Identifiers shaped like ZITADEL's: decimal strings of 18 digits, ordered by creation time.

ZITADEL uses a sonyflake: 39 bits of time in 10 ms units since an epoch, 8 bits of sequence
within one time unit, 16 bits of machine id. We keep the layout, so ids sort by time as
strings of equal length, and pick the machine id at random per process: two processes on one
database collide only if they draw the same 16 bits *and* the same 10 ms *and* sequence, and
the primary keys catch that case as a constraint error instead of silent corruption.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import NewType

# 2019-04-29T00:00:00Z, ZITADEL's first commit year; keeps today's ids at 18 digits.
EPOCH_SECONDS = 1556496000
_SEQUENCE_BITS = 8
_MACHINE_BITS = 16

OrgId = NewType("OrgId", str)
UserId = NewType("UserId", str)
ProjectId = NewType("ProjectId", str)
AppId = NewType("AppId", str)
GrantId = NewType("GrantId", str)
InstanceId = NewType("InstanceId", str)


class IdGenerator:
    """Time-ordered 63-bit ids rendered as decimal strings; thread-safe."""

    def __init__(self, machine_id: int | None = None, clock: Callable[[], float] = time.time) -> None:
        self._machine_id = secrets.randbits(_MACHINE_BITS) if machine_id is None else machine_id
        if not 0 <= self._machine_id < 1 << _MACHINE_BITS:
            raise ValueError("machine id must fit in 16 bits")
        self._clock = clock
        self._lock = threading.Lock()
        self._last_unit = -1
        self._sequence = 0

    def next_int(self) -> int:
        with self._lock:
            unit = int((self._clock() - EPOCH_SECONDS) * 100)
            if unit < self._last_unit:  # the wall clock went back: stay on the last unit
                unit = self._last_unit
            if unit == self._last_unit:
                self._sequence = (self._sequence + 1) & ((1 << _SEQUENCE_BITS) - 1)
                if self._sequence == 0:  # 256 ids in one unit: borrow the next unit
                    unit += 1
            else:
                self._sequence = 0
            self._last_unit = unit
            return (unit << (_SEQUENCE_BITS + _MACHINE_BITS)) | (self._sequence << _MACHINE_BITS) | self._machine_id

    def next(self) -> str:
        return str(self.next_int())


_default = IdGenerator()


def new_id() -> str:
    """A fresh id from the process-wide generator."""
    return _default.next()
