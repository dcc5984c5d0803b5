"""Projects and project roles: names and role fields with ZITADEL's limits."""

from __future__ import annotations

import pytest

from bergfried.domain.ids import OrgId, ProjectId
from bergfried.domain.projects import (
    PrivateLabelingSetting,
    Project,
    ProjectState,
    validate_project_name,
    validate_role,
)
from bergfried.errors import InvalidArgument

ROLES = "spec/management-api.md §6"


@pytest.mark.rule(ROLES)
def test_role_with_maximal_lengths_is_accepted() -> None:
    validate_role("k" * 200, "d" * 200, "g" * 200)


@pytest.mark.rule(ROLES)
def test_role_group_is_optional() -> None:
    validate_role("admin", "Administrator", "")


@pytest.mark.rule(ROLES + " (role key path segment is a catch-all)")
def test_role_key_may_contain_a_slash() -> None:
    validate_role("billing/admin", "Billing admin", "")


@pytest.mark.rule(ROLES)
@pytest.mark.parametrize(
    ("key", "display_name", "group", "field"),
    [
        ("", "Admin", "", "RoleKey"),
        ("k" * 201, "Admin", "", "RoleKey"),
        ("admin", "", "", "DisplayName"),
        ("admin", "d" * 201, "", "DisplayName"),
        ("admin", "Admin", "g" * 201, "Group"),
    ],
)
def test_role_field_out_of_bounds_is_invalid_and_named(key: str, display_name: str, group: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_role(key, display_name, group)
    assert f"AddProjectRoleRequest.{field}:" in caught.value.description


@pytest.mark.parametrize("name", ["P", "Portal", "x" * 200])
def test_project_name_of_1_to_200_characters_is_accepted(name: str) -> None:
    assert validate_project_name(name) == name


def test_project_name_is_trimmed() -> None:
    assert validate_project_name("  Portal  ") == "Portal"


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_project_name_empty_or_longer_than_200_is_invalid(name: str) -> None:
    with pytest.raises(InvalidArgument):
        validate_project_name(name)


@pytest.mark.rule(ROLES)
def test_new_project_is_active_without_checks_or_assertion() -> None:
    project = Project(id=ProjectId("1"), org_id=OrgId("2"), name="Portal")
    assert project.state == ProjectState.ACTIVE
    assert not project.project_role_assertion
    assert not project.project_role_check
    assert not project.has_project_check
    assert project.private_labeling_setting == PrivateLabelingSetting.UNSPECIFIED
