"""Password checks run off the event loop on a pool of one thread per core
(crypto/passwords.py), so a burst of logins holds at most that many argon2id buffers at once."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from bergfried.crypto import passwords


async def test_a_burst_of_checks_runs_at_most_one_per_core_and_each_gets_its_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    running, peak, lock = 0, 0, threading.Lock()

    def slow_verify(stored_hash: str | None, password: str) -> bool:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return password == "right"

    monkeypatch.setattr(passwords, "verify_password", slow_verify)
    cores = os.cpu_count() or 1
    answers = await asyncio.gather(*[passwords.verify_password_async("h", "right" if i % 2 else "wrong")
                                     for i in range(4 * cores + 2)])
    assert answers == [bool(i % 2) for i in range(4 * cores + 2)]
    assert peak == cores


async def test_the_async_forms_check_real_argon2id_hashes() -> None:
    stored = await passwords.hash_password_async("Password1!")
    assert stored.startswith("$argon2id$")
    assert await passwords.verify_password_async(stored, "Password1!")
    assert not await passwords.verify_password_async(stored, "password1!")
    assert not await passwords.verify_password_async(None, "Password1!")  # the dummy hash: same time, no
