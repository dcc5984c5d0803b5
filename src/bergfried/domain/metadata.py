"""User (and organization) metadata: key → bytes, with ZITADEL's limits and encodings.

The management API carries values as standard base64 with padding (protojson `bytes`) and
accepts any base64 alphabet, padded or not; the `urn:zitadel:iam:user:metadata` claim carries
them as unpadded base64url (seed 000: `1234` → `MTIzNA`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from bergfried.errors import InvalidArgument

MAX_KEY_LENGTH = 200
MAX_VALUE_BYTES = 500_000


@dataclass(frozen=True, slots=True)
class Metadata:
    key: str
    value: bytes


def validate_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidArgument(
            "Errors.Metadata.Invalid",
            f"invalid SetUserMetadataRequest.Key: value length must be between 1 and {MAX_KEY_LENGTH} runes, inclusive",
            error_id="META-2m0ds",
        )
    return key


def validate_value(value: bytes) -> bytes:
    if not 1 <= len(value) <= MAX_VALUE_BYTES:
        raise InvalidArgument(
            "Errors.Metadata.Invalid",
            "invalid SetUserMetadataRequest.Value: "
            f"value length must be between 1 and {MAX_VALUE_BYTES} bytes, inclusive",
            error_id="META-ad3f2",
        )
    return value


def decode_api_value(text: str) -> bytes:
    """protojson `bytes` input: standard or URL-safe alphabet, padded or not."""
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidArgument(
            "Errors.Metadata.Invalid", "value is not valid base64", error_id="META-b64in"
        ) from exc


def encode_api_value(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def encode_claim_value(value: bytes) -> str:
    """The claim form: base64url without padding (seed 000 shows `MTIzNA` for `1234`)."""
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode("ascii")
