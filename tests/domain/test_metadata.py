"""Metadata: key 1–200, value 1–500 000 bytes; base64 on the API, unpadded base64url in claims."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bergfried.domain.metadata import (
    MAX_VALUE_BYTES,
    decode_api_value,
    encode_api_value,
    encode_claim_value,
    validate_key,
    validate_value,
)
from bergfried.errors import InvalidArgument

METADATA = "spec/management-api.md §5.3"
TRANSPORT = "spec/management-api.md §1 (bytes fields)"
CLAIM = "seeds/000 (MTIzNA decodes to 1234); spec/claims.md urn:zitadel:iam:user:metadata"


@pytest.mark.rule(METADATA)
@pytest.mark.parametrize("key", ["k", "ContractNumber", "x" * 200, "ü" * 200])
def test_key_of_1_to_200_characters_is_accepted(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.rule(METADATA)
@pytest.mark.parametrize("key", ["", "x" * 201])
def test_key_empty_or_longer_than_200_is_invalid(key: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_key(key)
    assert caught.value.key == "Errors.Metadata.Invalid"


@pytest.mark.rule(METADATA)
@pytest.mark.parametrize("size", [1, 2, MAX_VALUE_BYTES])
def test_value_of_1_to_500000_bytes_is_accepted(size: int) -> None:
    value = b"\x00" * size
    assert validate_value(value) == value


@pytest.mark.rule(METADATA)
@pytest.mark.parametrize("size", [0, MAX_VALUE_BYTES + 1])
def test_value_empty_or_larger_than_500000_bytes_is_invalid(size: int) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_value(b"a" * size)
    assert caught.value.key == "Errors.Metadata.Invalid"


def test_value_limit_is_500000_bytes() -> None:
    assert MAX_VALUE_BYTES == 500_000


@pytest.mark.rule(TRANSPORT)
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("MTIzNA==", b"1234"),  # standard, padded (what ZITADEL emits)
        ("MTIzNA", b"1234"),  # standard, unpadded
        ("MTIzNA=", b"1234"),  # half padded
        ("+/8=", b"\xfb\xff"),  # standard alphabet, padded
        ("+/8", b"\xfb\xff"),  # standard alphabet, unpadded
        ("-_8=", b"\xfb\xff"),  # URL-safe alphabet, padded
        ("-_8", b"\xfb\xff"),  # URL-safe alphabet, unpadded
        ("  MTIzNA==\n", b"1234"),  # surrounding whitespace
    ],
)
def test_api_value_accepts_standard_and_url_safe_padded_or_not(text: str, value: bytes) -> None:
    assert decode_api_value(text) == value


@pytest.mark.rule(TRANSPORT)
@pytest.mark.parametrize("text", ["A", "MT!zNA==", "MT IzNA==", "MTIzNA====", "ä"])
def test_api_value_that_is_not_base64_is_invalid_argument(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        decode_api_value(text)
    assert caught.value.key == "Errors.Metadata.Invalid"


def test_empty_api_value_decodes_to_empty_bytes_which_validation_rejects() -> None:
    assert decode_api_value("") == b""
    with pytest.raises(InvalidArgument):
        validate_value(decode_api_value(""))


@pytest.mark.rule(METADATA + ' ("value": "MTIzNA==")')
def test_api_value_is_emitted_as_standard_base64_with_padding() -> None:
    assert encode_api_value(b"1234") == "MTIzNA=="
    assert encode_api_value(b"\xfb\xff") == "+/8="


@pytest.mark.rule(CLAIM)
def test_claim_value_of_1234_is_MTIzNA() -> None:
    assert encode_claim_value(b"1234") == "MTIzNA"


@pytest.mark.rule(CLAIM)
def test_claim_value_is_url_safe_base64_without_padding() -> None:
    assert encode_claim_value(b"\xfb\xff") == "-_8"


@pytest.mark.rule(TRANSPORT)
@given(st.binary(max_size=512))
def test_api_encoding_round_trips(value: bytes) -> None:
    assert decode_api_value(encode_api_value(value)) == value


@pytest.mark.rule(CLAIM)
@given(st.binary(max_size=512))
def test_claim_encoding_round_trips_through_the_api_decoder(value: bytes) -> None:
    encoded = encode_claim_value(value)
    assert not set(encoded) & set("+/=")
    assert decode_api_value(encoded) == value
    assert base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)) == value


@pytest.mark.rule(TRANSPORT)
@given(st.binary(max_size=512), st.booleans(), st.booleans())
def test_api_decoder_accepts_every_alphabet_and_padding_combination(value: bytes, url_safe: bool, padded: bool) -> None:
    encoded = (base64.urlsafe_b64encode if url_safe else base64.b64encode)(value).decode("ascii")
    if not padded:
        encoded = encoded.rstrip("=")
    assert decode_api_value(encoded) == value
