"""Keyed hashes of generated secrets: HMAC-SHA256 under a key derived from the master key."""

from __future__ import annotations

import hmac
from types import SimpleNamespace

import pytest

from bergfried.crypto import hashing
from bergfried.crypto.hashing import SecretHasher, generate_secret
from bergfried.crypto.masterkey import from_text

KEY = "0123456789abcdef0123456789abcdef"
OTHER_KEY = "fedcba9876543210fedcba9876543210"


@pytest.fixture
def hasher() -> SecretHasher:
    return SecretHasher(from_text(KEY))


def test_hash_is_deterministic(hasher: SecretHasher) -> None:
    assert hasher.hash("secret") == hasher.hash("secret")
    assert SecretHasher(from_text(KEY)).hash("secret") == hasher.hash("secret")


def test_hash_is_hex_sha256_and_not_the_secret(hasher: SecretHasher) -> None:
    digest = hasher.hash("secret")
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert "secret" not in digest


def test_hash_differs_per_master_key(hasher: SecretHasher) -> None:
    assert SecretHasher(from_text(OTHER_KEY)).hash("secret") != hasher.hash("secret")


def test_hash_differs_per_secret(hasher: SecretHasher) -> None:
    assert hasher.hash("secret") != hasher.hash("secreT")


def test_verify_accepts_the_right_secret(hasher: SecretHasher) -> None:
    assert hasher.verify("secret", hasher.hash("secret")) is True


@pytest.mark.parametrize("attempt", ["Secret", "secret ", "", "secre"])
def test_verify_rejects_a_wrong_secret(hasher: SecretHasher, attempt: str) -> None:
    assert hasher.verify(attempt, hasher.hash("secret")) is False


def test_verify_rejects_a_hash_made_under_another_master_key(hasher: SecretHasher) -> None:
    assert hasher.verify("secret", SecretHasher(from_text(OTHER_KEY)).hash("secret")) is False


def test_verify_compares_in_constant_time(hasher: SecretHasher, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    original = hmac.compare_digest

    def recording(a: str, b: str) -> bool:
        calls.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hashing, "hmac", SimpleNamespace(new=hmac.new, compare_digest=recording))
    stored = hasher.hash("secret")
    assert hasher.verify("secret", stored) is True
    assert hasher.verify("wrong", stored) is False
    assert len(calls) == 2
    assert calls[0] == (stored, stored)


def test_generated_secrets_are_url_safe_and_unique() -> None:
    secrets = {generate_secret() for _ in range(200)}
    assert len(secrets) == 200
    for secret in secrets:
        assert len(secret) == 43  # 32 bytes in unpadded base64url
        assert set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
