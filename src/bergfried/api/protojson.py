"""ZITADEL's JSON, as grpc-gateway's protojson writes and reads it (spec/management-api.md §1).

Output (`encode`): lowerCamel names, zero values omitted (`false`, `""`, `0`, empty lists, the
enum's first value), 64-bit integers as strings, enums as names, RFC 3339 UTC timestamps, bytes as
padded standard base64, durations as `"<seconds>s"`.

Input (`ApiModel` plus the annotated types below): lowerCamel or snake_case names, unknown fields
discarded, 64-bit integers as string or number, enums as name or number, bytes in the standard or
URL-safe alphabet with or without padding.
"""

from __future__ import annotations

import base64
import enum
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.alias_generators import to_camel

from bergfried.domain.metadata import decode_api_value
from bergfried.errors import InvalidArgument

_DURATION = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,9})?s")


class ApiModel(BaseModel):
    """Base of every request and response message of the API."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True,
                              extra="ignore", frozen=True)


class Int32:
    """Marks an integer field that protojson writes as a JSON number (uint32/int32)."""


class Struct:
    """Marks a `google.protobuf.Struct` field: free JSON, written as it is (numbers stay numbers)."""


def _int64(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


# uint64/int64: a JSON string on output, string or number on input.
Int64 = Annotated[int, BeforeValidator(_int64), WithJsonSchema({"type": "string", "format": "int64"})]
UInt32 = Annotated[int, Int32(), Field(ge=0, le=2**32 - 1),
                   WithJsonSchema({"type": "integer", "format": "uint32", "minimum": 0})]


def _bytes_in(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return decode_api_value(value)
        except InvalidArgument:
            raise ValueError("value must be base64") from None
    return value


# protojson `bytes`: any base64 alphabet in, padded standard base64 out.
B64Bytes = Annotated[bytes, BeforeValidator(_bytes_in), PlainSerializer(lambda b: base64.b64encode(b).decode()),
                     WithJsonSchema({"type": "string", "format": "byte"})]
Timestamp = Annotated[datetime, WithJsonSchema({"type": "string", "format": "date-time"})]
def _duration_in(value: Any) -> Any:
    if isinstance(value, str) and _DURATION.fullmatch(value.strip()):
        return timedelta(seconds=float(value.strip()[:-1]))
    if isinstance(value, str):
        raise ValueError('value must be a duration such as "3600s"')
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration_in),
                     WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?s$", "example": "3600s"})]


def enum_in(enum_type: type[enum.Enum]) -> BeforeValidator:
    """protojson reads an enum by name or by number (the position in the proto, 0 first)."""
    members = list(enum_type)

    def parse(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(members):
            return members[value]
        return value

    return BeforeValidator(parse)


def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with 0, 3, 6 fractional digits, as protojson does (we keep microseconds)."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    micros = value.microsecond
    if micros:
        text += f".{micros // 1000:03d}" if micros % 1000 == 0 else f".{micros:06d}"
    return text + "Z"


def duration(value: timedelta) -> str:
    seconds = value.total_seconds()
    return f"{int(seconds)}s" if seconds == int(seconds) else f"{seconds:.6f}".rstrip("0") + "s"


def _is_zero(value: Any) -> bool:
    if value is None or value is False or value == "" or value == b"":
        return True
    if isinstance(value, int | float) and not isinstance(value, bool | enum.Enum) and value == 0:
        return True
    if isinstance(value, list | tuple | dict) and not value:
        return True
    if isinstance(value, enum.Enum):
        return next(iter(type(value))) is value
    return False


def encode(value: Any, *, as_int32: bool = False) -> Any:
    """A response message (or any value inside one) as protojson writes it."""
    if isinstance(value, BaseModel):
        out: dict[str, Any] = {}
        for name, info in type(value).model_fields.items():
            item = getattr(value, name)
            if _is_zero(item):
                continue
            if any(isinstance(m, Struct) for m in info.metadata):
                out[info.alias or name] = item
                continue
            int32 = any(isinstance(m, Int32) for m in info.metadata)
            out[info.alias or name] = encode(item, as_int32=int32)
        return out
    if isinstance(value, enum.Enum):
        return value.value if isinstance(value.value, str) else value.name
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if as_int32 else str(value)
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, timedelta):
        return duration(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list | tuple):
        return [encode(item, as_int32=as_int32) for item in value]
    if isinstance(value, dict):
        return {key: encode(item, as_int32=as_int32) for key, item in value.items()}
    return value
