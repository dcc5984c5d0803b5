"""Human passwords as argon2id hashes (RFC 9106 second recommended parameters, as argon2-cffi's
defaults). Verification of a missing hash still spends the same time, so a login cannot tell
"no such user" from "wrong password" by the clock.

Each check takes argon2id's 64 MiB while it runs. The async forms run on a pool of one thread per
core: more checks at once would not finish sooner on the CPU, but would each hold their 64 MiB,
so the pool bounds a process's peak memory under a burst of logins (bench/README.md, RSS)."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher(type=Type.ID)
_DUMMY = _hasher.hash("bergfried-dummy-password")
_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="argon2id")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


async def verify_password_async(stored_hash: str | None, password: str) -> bool:
    """`verify_password` off the event loop, on the bounded pool."""
    return await asyncio.get_running_loop().run_in_executor(_POOL, _verify, stored_hash, password)


async def hash_password_async(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_POOL, _hash, password)


def _verify(stored_hash: str | None, password: str) -> bool:
    return verify_password(stored_hash, password)  # looked up at call time


def _hash(password: str) -> str:
    return hash_password(password)
