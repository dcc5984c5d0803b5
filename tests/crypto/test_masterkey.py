"""The master key: exactly 32 characters, a 0600 file made on first start, a key per purpose."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bergfried.crypto.masterkey import MASTERKEY_LENGTH, MasterKey, from_text, load_or_create
from bergfried.errors import ConfigError

KEY = "0123456789abcdef0123456789abcdef"


def test_master_key_is_32_characters_like_zitadels() -> None:
    assert MASTERKEY_LENGTH == 32
    assert from_text(KEY).secret == KEY.encode()


@pytest.mark.parametrize("text", ["", "short", KEY[:-1], KEY + "x", KEY * 2])
def test_master_key_of_other_length_is_a_config_error_naming_the_variable(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        from_text(text)
    assert "BERGFRIED_MASTERKEY" in str(caught.value)
    assert "32" in str(caught.value)


def test_master_key_length_counts_characters_not_bytes() -> None:
    assert from_text("ü" * 32).secret == ("ü" * 32).encode()


def test_master_key_error_does_not_echo_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        from_text("s3cr3t-but-too-short")
    assert "s3cr3t" not in str(caught.value)


def test_load_or_create_makes_a_32_character_file_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "masterkey"
    key, created = load_or_create(path)
    assert created is True
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text(encoding="utf-8").strip()) == 32
    assert key.secret == path.read_text(encoding="utf-8").strip().encode()


def test_load_or_create_reuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "masterkey"
    first, created_first = load_or_create(path)
    second, created_second = load_or_create(path)
    assert (created_first, created_second) == (True, False)
    assert first.secret == second.secret


def test_load_or_create_reads_a_key_written_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "masterkey"
    path.write_text(KEY + "\n", encoding="utf-8")
    key, created = load_or_create(path)
    assert created is False
    assert key.secret == KEY.encode()


def test_each_created_key_is_random(tmp_path: Path) -> None:
    one, _ = load_or_create(tmp_path / "one")
    two, _ = load_or_create(tmp_path / "two")
    assert one.secret != two.secret


def test_bad_key_file_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "masterkey"
    path.write_text("too short\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_or_create(path)
    assert str(path) in str(caught.value)


def test_derive_gives_a_256_bit_key_per_purpose() -> None:
    master = from_text(KEY)
    hashing = master.derive("bergfried/secret-hash/v1")
    sealing = master.derive("bergfried/aead/signing-keys/v1")
    assert len(hashing) == 32
    assert len(sealing) == 32
    assert hashing != sealing
    assert KEY.encode() not in (hashing, sealing)


def test_derive_is_deterministic_and_depends_on_the_master_key() -> None:
    assert from_text(KEY).derive("p") == from_text(KEY).derive("p")
    assert from_text(KEY).derive("p") != from_text(KEY[::-1]).derive("p")


def test_repr_and_str_hide_the_key() -> None:
    master = MasterKey(KEY.encode())
    assert KEY not in repr(master)
    assert KEY not in str(master)
    assert KEY not in f"{master!r} {[master]}"
    assert repr(master) == "MasterKey(***)"
