"""User grants and project grants: requested role keys must be roles of the project."""

from __future__ import annotations

import pytest

from bergfried.domain.grants import check_role_keys
from bergfried.errors import PreconditionFailed

GRANTS = "spec/management-api.md §8"


@pytest.mark.rule(GRANTS)
def test_known_role_keys_are_accepted_in_request_order() -> None:
    assert check_role_keys(["user", "admin"], ["admin", "user", "viewer"]) == ("user", "admin")


@pytest.mark.rule(GRANTS)
def test_duplicate_role_keys_are_dropped() -> None:
    assert check_role_keys(["admin", "user", "admin"], ["admin", "user"]) == ("admin", "user")


@pytest.mark.rule("spec/roles-and-permissions.md §4 (the grant's role list may be empty)")
def test_empty_role_list_is_accepted() -> None:
    assert check_role_keys([], ["admin"]) == ()
    assert check_role_keys([], []) == ()


@pytest.mark.rule(GRANTS)
@pytest.mark.parametrize(
    ("requested", "available"),
    [(["nope"], ["admin"]), (["admin", "nope"], ["admin"]), (["admin"], []), (["Admin"], ["admin"])],
)
def test_unknown_role_key_is_failed_precondition_role_not_found(requested: list[str], available: list[str]) -> None:
    with pytest.raises(PreconditionFailed) as caught:
        check_role_keys(requested, available)
    assert caught.value.key == "Errors.Project.Role.NotFound"
    assert caught.value.grpc_code == 9
    assert caught.value.http_status == 400


def test_unknown_role_keys_are_named_in_the_log_detail() -> None:
    with pytest.raises(PreconditionFailed) as caught:
        check_role_keys(["admin", "ghost"], ["admin"])
    assert caught.value.detail is not None
    assert "ghost" in caught.value.detail


def test_role_keys_accept_any_iterables() -> None:
    assert check_role_keys(iter(["a", "b"]), (key for key in ["b", "a"])) == ("a", "b")
