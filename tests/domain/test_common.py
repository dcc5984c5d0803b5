"""Length checks count runes (code points), inclusive on both ends, like ZITADEL's validate rules."""

from __future__ import annotations

import pytest

from bergfried.domain.common import check_length
from bergfried.errors import InvalidArgument


@pytest.mark.rule("spec/management-api.md §5.1")
@pytest.mark.parametrize("value", ["a", "ab", "a" * 200])
def test_length_within_bounds_is_returned_unchanged(value: str) -> None:
    assert check_length(value, "UserName", min_len=1, max_len=200, message="AddHumanUserRequest") == value


@pytest.mark.rule("spec/management-api.md §5.1")
@pytest.mark.parametrize("value", ["", "a" * 201])
def test_length_outside_bounds_is_invalid_argument(value: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_length(value, "UserName", min_len=1, max_len=200, message="AddHumanUserRequest")
    assert caught.value.key == "Errors.InvalidArgument"
    assert caught.value.grpc_code == 3
    assert caught.value.http_status == 400


@pytest.mark.rule("spec/management-api.md §5.1")
def test_length_error_text_is_zitadels_validation_message() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_length("", "UserName", min_len=1, max_len=200, message="ImportHumanUserRequest")
    assert caught.value.description == (
        "invalid ImportHumanUserRequest.UserName: value length must be between 1 and 200 runes, inclusive"
    )


def test_length_counts_code_points_not_bytes() -> None:
    umlauts = "ü" * 200  # 400 bytes in UTF-8
    assert check_length(umlauts, "Name", min_len=1, max_len=200, message="M") == umlauts
    with pytest.raises(InvalidArgument):
        check_length("ü" * 201, "Name", min_len=1, max_len=200, message="M")
