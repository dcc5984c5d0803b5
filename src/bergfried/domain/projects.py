"""Projects and their roles."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bergfried.domain.common import check_length
from bergfried.domain.ids import OrgId, ProjectId


class ProjectState(enum.StrEnum):
    UNSPECIFIED = "PROJECT_STATE_UNSPECIFIED"
    ACTIVE = "PROJECT_STATE_ACTIVE"
    INACTIVE = "PROJECT_STATE_INACTIVE"


class PrivateLabelingSetting(enum.StrEnum):
    UNSPECIFIED = "PRIVATE_LABELING_SETTING_UNSPECIFIED"
    ENFORCE_PROJECT_RESOURCE_OWNER_POLICY = "PRIVATE_LABELING_SETTING_ENFORCE_PROJECT_RESOURCE_OWNER_POLICY"
    ALLOW_LOGIN_USER_RESOURCE_OWNER_POLICY = "PRIVATE_LABELING_SETTING_ALLOW_LOGIN_USER_RESOURCE_OWNER_POLICY"


@dataclass(frozen=True, slots=True)
class Project:
    """`project_role_assertion` puts roles into tokens without the roles scope;
    `project_role_check` and `has_project_check` are login gates (spec/roles-and-permissions.md)."""

    id: ProjectId
    org_id: OrgId
    name: str
    state: ProjectState = ProjectState.ACTIVE
    project_role_assertion: bool = False
    project_role_check: bool = False
    has_project_check: bool = False
    private_labeling_setting: PrivateLabelingSetting = PrivateLabelingSetting.UNSPECIFIED


@dataclass(frozen=True, slots=True)
class ProjectRole:
    project_id: ProjectId
    key: str
    display_name: str
    group: str = ""


def validate_project_name(name: str) -> str:
    return check_length(name.strip(), "Name", min_len=1, max_len=200, message="AddProjectRequest")


def validate_role(key: str, display_name: str, group: str) -> None:
    msg = "AddProjectRoleRequest"
    check_length(key, "RoleKey", min_len=1, max_len=200, message=msg)
    check_length(display_name, "DisplayName", min_len=1, max_len=200, message=msg)
    check_length(group, "Group", min_len=0, max_len=200, message=msg)
