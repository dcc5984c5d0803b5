"""Small shared pieces of the domain: object details, text length checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bergfried.errors import InvalidArgument


@dataclass(frozen=True, slots=True)
class ObjectDetails:
    """ZITADEL's `details` on every object and every mutation answer."""

    sequence: int
    creation_date: datetime | None
    change_date: datetime | None
    resource_owner: str


def check_length(value: str, field: str, *, min_len: int, max_len: int, message: str) -> str:
    """ZITADEL validates lengths in runes (code points), inclusive on both ends."""
    if not min_len <= len(value) <= max_len:
        raise InvalidArgument(
            "Errors.InvalidArgument",
            f"invalid {message}.{field}: value length must be between {min_len} and {max_len} runes, inclusive",
            error_id="VALID-" + field[:6],
        )
    return value
