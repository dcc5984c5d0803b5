"""protojson as grpc-gateway writes and reads it (spec/management-api.md §1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import pytest
from pydantic import ValidationError

from bergfried.api.lists import ListQuery
from bergfried.api.protojson import ApiModel, B64Bytes, Duration, Int64, Timestamp, UInt32, encode, enum_in
from bergfried.domain.users import Gender


class Inner(ApiModel):
    flag: bool = False


class Message(ApiModel):
    user_name: str = ""
    sequence: Int64 = 0
    limit: UInt32 = 0
    gender: Annotated[Gender, enum_in(Gender)] = Gender.UNSPECIFIED
    value: B64Bytes = b""
    at: Timestamp | None = None
    lifetime: Duration | None = None
    names: tuple[str, ...] = ()
    inner: Inner | None = None


@pytest.mark.rule("spec/management-api.md §1: zero values omitted, set sub-messages kept")
def test_zero_values_are_omitted() -> None:
    assert encode(Message()) == {}
    assert encode(Message(inner=Inner())) == {"inner": {}}


@pytest.mark.rule("spec/management-api.md §1: int64 as strings, uint32 as numbers, enums as names, bytes padded, "
                  "RFC 3339 UTC, durations in seconds")
def test_output_forms() -> None:
    message = Message(user_name="a", sequence=409, limit=5, gender=Gender.MALE, value=b"1234",
                      at=datetime(2023, 6, 21, 16, 1, 52, 829838, tzinfo=UTC), lifetime=timedelta(hours=1),
                      names=("x",))
    assert encode(message) == {
        "userName": "a", "sequence": "409", "limit": 5, "gender": "GENDER_MALE", "value": "MTIzNA==",
        "at": "2023-06-21T16:01:52.829838Z", "lifetime": "3600s", "names": ["x"],
    }
    assert encode(Message(at=datetime(2023, 1, 1, 0, 0, 0, 5000, tzinfo=UTC)))["at"] == "2023-01-01T00:00:00.005Z"
    assert encode(Message(lifetime=timedelta(milliseconds=1500)))["lifetime"] == "1.5s"


@pytest.mark.rule("spec/management-api.md §1: lowerCamel or snake_case names, unknown fields discarded, int64 as "
                  "string or number, enums by name or number, any base64 alphabet")
def test_input_forms() -> None:
    camel = Message.model_validate({"userName": "a", "sequence": "7", "gender": 2, "value": "-_8", "other": 1})
    snake = Message.model_validate({"user_name": "a", "sequence": 7, "gender": "GENDER_MALE", "value": "+/8="})
    assert camel == snake
    assert camel.value == b"\xfb\xff"
    assert Message.model_validate({"lifetime": "2.5s"}).lifetime == timedelta(seconds=2.5)
    with pytest.raises(ValidationError):
        Message.model_validate({"gender": "GENDER_ROBOT"})
    with pytest.raises(ValidationError):
        Message.model_validate({"value": "%%%"})


def test_list_query_bounds() -> None:
    assert ListQuery.model_validate({"offset": "10", "limit": 3, "asc": True}).offset == 10
    with pytest.raises(ValidationError):
        ListQuery.model_validate({"offset": "-1"})
