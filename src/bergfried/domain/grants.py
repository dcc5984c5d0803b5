"""Project grants (a project shared with another organization) and user grants (roles)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from bergfried.domain.ids import GrantId, OrgId, ProjectId, UserId
from bergfried.errors import PreconditionFailed


class UserGrantState(enum.StrEnum):
    UNSPECIFIED = "USER_GRANT_STATE_UNSPECIFIED"
    ACTIVE = "USER_GRANT_STATE_ACTIVE"
    INACTIVE = "USER_GRANT_STATE_INACTIVE"


class ProjectGrantState(enum.StrEnum):
    UNSPECIFIED = "PROJECT_GRANT_STATE_UNSPECIFIED"
    ACTIVE = "PROJECT_GRANT_STATE_ACTIVE"
    INACTIVE = "PROJECT_GRANT_STATE_INACTIVE"


@dataclass(frozen=True, slots=True)
class ProjectGrant:
    id: GrantId
    project_id: ProjectId
    org_id: OrgId  # the project's owner
    granted_org_id: OrgId
    role_keys: tuple[str, ...]
    state: ProjectGrantState = ProjectGrantState.ACTIVE


@dataclass(frozen=True, slots=True)
class UserGrant:
    """A user's roles on a project. `org_id` is the grant's resource owner: the project's org,
    or the granted org when the grant goes through a project grant."""

    id: GrantId
    user_id: UserId
    project_id: ProjectId
    org_id: OrgId
    role_keys: tuple[str, ...]
    project_grant_id: GrantId | None = None
    state: UserGrantState = UserGrantState.ACTIVE


def check_role_keys(requested: Iterable[str], available: Iterable[str]) -> tuple[str, ...]:
    """Every requested key must be a role of the project (or of the project grant); ZITADEL
    answers an unknown one with FAILED_PRECONDITION `Errors.Project.Role.NotFound`. Order kept,
    duplicates dropped."""
    allowed = set(available)
    keys = tuple(dict.fromkeys(requested))
    missing = [key for key in keys if key not in allowed]
    if missing:
        raise PreconditionFailed(
            "Errors.Project.Role.NotFound", "Role not found", error_id="COMMAND-4m9fs",
            detail=f"unknown role keys: {missing}",
        )
    return keys
