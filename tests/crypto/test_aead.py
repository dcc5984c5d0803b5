"""AES-256-GCM at rest: round trips; a wrong row, key or any changed byte fails to open."""

from __future__ import annotations

import pytest

from bergfried.crypto.aead import DecryptionError, Sealer
from bergfried.crypto.masterkey import from_text
from bergfried.errors import BergfriedError

KEY = "0123456789abcdef0123456789abcdef"
OTHER_KEY = "fedcba9876543210fedcba9876543210"


@pytest.fixture
def sealer() -> Sealer:
    return Sealer(from_text(KEY), "signing-keys")


@pytest.mark.parametrize("plaintext", [b"", b"x", b"-----BEGIN PRIVATE KEY-----\n" + bytes(range(256)) * 8])
def test_seal_then_open_round_trips(sealer: Sealer, plaintext: bytes) -> None:
    assert sealer.open(sealer.seal(plaintext, b"key-1"), b"key-1") == plaintext


def test_a_new_sealer_with_the_same_key_and_purpose_opens_the_blob(sealer: Sealer) -> None:
    blob = sealer.seal(b"payload", b"key-1")
    assert Sealer(from_text(KEY), "signing-keys").open(blob, b"key-1") == b"payload"


def test_blob_is_version_nonce_ciphertext_and_tag(sealer: Sealer) -> None:
    blob = sealer.seal(b"payload", b"key-1")
    assert blob[:1] == b"\x01"
    assert len(blob) == 1 + 12 + len(b"payload") + 16
    assert b"payload" not in blob


def test_each_seal_uses_a_fresh_nonce(sealer: Sealer) -> None:
    assert sealer.seal(b"payload", b"key-1") != sealer.seal(b"payload", b"key-1")


def test_wrong_associated_data_fails_to_open(sealer: Sealer) -> None:
    blob = sealer.seal(b"payload", b"key-1")
    with pytest.raises(DecryptionError):
        sealer.open(blob, b"key-2")


def test_wrong_master_key_fails_to_open(sealer: Sealer) -> None:
    blob = sealer.seal(b"payload", b"key-1")
    with pytest.raises(DecryptionError):
        Sealer(from_text(OTHER_KEY), "signing-keys").open(blob, b"key-1")


def test_other_purpose_fails_to_open(sealer: Sealer) -> None:
    blob = sealer.seal(b"payload", b"key-1")
    with pytest.raises(DecryptionError):
        Sealer(from_text(KEY), "webhook-keys").open(blob, b"key-1")


def test_any_changed_byte_fails_to_open(sealer: Sealer) -> None:
    blob = sealer.seal(b"payload", b"key-1")
    for index in range(len(blob)):
        tampered = bytearray(blob)
        tampered[index] ^= 0x01
        with pytest.raises(DecryptionError):
            sealer.open(bytes(tampered), b"key-1")


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + b"\x00" * 27, b"\x02" + b"\x00" * 40])
def test_truncated_or_unknown_format_fails_to_open(sealer: Sealer, blob: bytes) -> None:
    with pytest.raises(DecryptionError):
        sealer.open(blob, b"key-1")


def test_truncated_tag_fails_to_open(sealer: Sealer) -> None:
    blob = sealer.seal(b"payload", b"key-1")
    with pytest.raises(DecryptionError):
        sealer.open(blob[:-1], b"key-1")


def test_decryption_error_is_a_bergfried_error() -> None:
    assert issubclass(DecryptionError, BergfriedError)
