"""Human passwords as argon2id hashes; a missing hash verifies as False (after the same work)."""

from __future__ import annotations

import pytest

from bergfried.crypto.passwords import hash_password, needs_rehash, verify_password

PASSWORD = "Password1!"


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash once for the module


def test_hash_is_argon2id(stored: str) -> None:
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_hashes_are_salted() -> None:
    assert hash_password("same") != hash_password("same")


def test_verify_accepts_the_right_password(stored: str) -> None:
    assert verify_password(stored, PASSWORD) is True


@pytest.mark.parametrize("attempt", ["password1!", "Password1", "", PASSWORD + " "])
def test_verify_rejects_a_wrong_password(stored: str, attempt: str) -> None:
    assert verify_password(stored, attempt) is False


def test_verify_with_no_hash_is_false() -> None:
    assert verify_password(None, PASSWORD) is False


def test_verify_with_no_hash_is_false_even_for_the_dummy_password() -> None:
    assert verify_password(None, "bergfried-dummy-password") is False


@pytest.mark.parametrize("garbage", ["", "not-a-hash", "$2a$10$abcdefghijklmnopqrstuv"])
def test_verify_with_a_malformed_hash_is_false(garbage: str) -> None:
    assert verify_password(garbage, PASSWORD) is False


def test_fresh_hash_needs_no_rehash(stored: str) -> None:
    assert needs_rehash(stored) is False


def test_weaker_parameters_need_a_rehash() -> None:
    from argon2 import PasswordHasher, Type

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID).hash(PASSWORD)
    assert needs_rehash(weak) is True
    assert verify_password(weak, PASSWORD) is True
