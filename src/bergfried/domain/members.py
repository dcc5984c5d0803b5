"""Members: users with ZITADEL's manager roles on the instance, an organization, a project or
a project grant, and the role → permission table (data, `cmd/defaults.yaml` in ZITADEL)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from bergfried.domain.ids import UserId
from bergfried.errors import InvalidArgument


class MemberLevel(enum.StrEnum):
    INSTANCE = "instance"
    ORG = "org"
    PROJECT = "project"
    PROJECT_GRANT = "project_grant"


@dataclass(frozen=True, slots=True)
class Member:
    level: MemberLevel
    object_id: str  # instance, org, project or project grant id
    user_id: UserId
    roles: tuple[str, ...]


_CRUD = (".read", ".write", ".delete")


def _expand(*perms: str) -> frozenset[str]:
    """`x.*` stands for x.read, x.write and x.delete, as in spec/roles-and-permissions.md."""
    out: set[str] = set()
    for perm in perms:
        if perm.endswith(".*"):
            out.update(perm[:-2] + suffix for suffix in _CRUD)
        else:
            out.add(perm)
    return frozenset(out)


_ORG_OWNER = _expand(
    "org.read", "org.global.read", "org.write", "org.delete", "org.member.*", "org.idp.*", "org.action.*",
    "org.flow.*", "org.feature.*", "user.read", "user.global.read", "user.write", "user.delete", "user.grant.*",
    "user.membership.read", "user.credential.write", "user.passkey.write", "user.feature.*", "policy.*",
    "project.read", "project.create", "project.write", "project.delete", "project.member.*", "project.role.*",
    "project.app.read", "project.app.write", "project.grant.*", "project.grant.member.*", "session.read",
    "session.delete",
)
_PROJECT_OWNER = _expand(
    "org.global.read", "policy.read", "project.read", "project.write", "project.delete", "project.member.*",
    "project.role.*", "project.app.*", "project.grant.*", "project.grant.member.*", "user.read",
    "user.global.read", "user.grant.*", "user.membership.read",
)
_IAM_OWNER = _expand(
    "iam.*", "iam.policy.*", "iam.member.*", "iam.idp.*", "iam.action.*", "iam.flow.*", "iam.feature.*",
    "iam.restrictions.read", "iam.restrictions.write", "iam.web_key.*", "iam.debug.read", "iam.debug.write",
    "org.create", "org.global.read", "user.global.read", "user.self.delete", "project.create", "project.app.delete",
    "events.read", "milestones.read", "session.write", "session.delete", "action.target.*",
    "action.execution.read", "action.execution.write", "userschema.*", "impersonation",
) | _ORG_OWNER | _PROJECT_OWNER

# Manager role → permissions. Adding a role is adding a row.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "IAM_OWNER": _IAM_OWNER,
    "IAM_OWNER_VIEWER": frozenset(p for p in _IAM_OWNER if p.endswith(".read")),
    "IAM_ORG_MANAGER": _ORG_OWNER | _expand("org.create", "session.read", "session.delete"),
    "IAM_USER_MANAGER": _expand(
        "org.read", "org.global.read", "org.member.read", "org.member.delete", "user.read", "user.global.read",
        "user.write", "user.delete", "user.grant.*", "user.membership.read", "user.passkey.write",
        "user.feature.*", "project.read", "project.member.read", "project.role.read", "project.app.read",
        "project.grant.read", "project.grant.write", "project.grant.delete", "project.grant.member.read",
        "session.read", "session.delete",
    ),
    "IAM_LOGIN_CLIENT": _expand(
        "iam.read", "iam.policy.read", "iam.member.read", "iam.member.write", "iam.idp.read",
        "iam.feature.read", "iam.restrictions.read", "org.read", "org.member.read", "org.member.write",
        "org.idp.read", "org.feature.read", "user.read", "user.write", "user.grant.read", "user.grant.write",
        "user.membership.read", "user.credential.write", "user.passkey.write", "user.feature.read",
        "policy.read", "project.read", "project.member.read", "project.member.write", "project.role.read",
        "project.app.read", "project.grant.read", "project.grant.member.read", "project.grant.member.write",
        "session.read", "session.write", "session.link", "session.delete", "userschema.read",
    ),
    "IAM_ADMIN_IMPERSONATOR": frozenset({"admin.impersonation", "impersonation"}),
    "IAM_END_USER_IMPERSONATOR": frozenset({"impersonation"}),
    "ORG_OWNER": _ORG_OWNER,
    # Not simply the `.read` part of ORG_OWNER: no org.global.read and no session.read, but the
    # grant-level project.grant.user.grant.read (spec/roles-and-permissions.md §3).
    "ORG_OWNER_VIEWER": _expand(
        "org.read", "org.member.read", "org.idp.read", "org.action.read", "org.flow.read", "org.feature.read",
        "user.read", "user.global.read", "user.grant.read", "user.membership.read", "user.feature.read",
        "policy.read", "project.read", "project.member.read", "project.role.read", "project.app.read",
        "project.grant.read", "project.grant.member.read", "project.grant.user.grant.read",
    ),
    "ORG_USER_MANAGER": _expand(
        "org.read", "user.read", "user.global.read", "user.write", "user.delete", "user.grant.*",
        "user.membership.read", "user.feature.*", "policy.read", "project.read", "project.role.read",
        "session.read", "session.delete",
    ),
    "ORG_SETTINGS_MANAGER": _expand(
        "org.read", "org.write", "org.member.read", "org.idp.*", "org.feature.*", "policy.*",
    ),
    "ORG_USER_PERMISSION_EDITOR": _expand(
        "org.read", "org.member.read", "user.read", "user.global.read", "user.grant.*", "policy.read",
        "project.read", "project.member.read", "project.role.read", "project.app.read", "project.grant.read",
        "project.grant.member.read",
    ),
    "ORG_PROJECT_PERMISSION_EDITOR": _expand(
        "org.read", "org.member.read", "user.read", "user.global.read", "user.grant.*", "policy.read",
        "project.read", "project.member.read", "project.role.read", "project.app.read", "project.grant.read",
        "project.grant.member.read", "project.grant.write", "project.grant.delete",
    ),
    "ORG_PROJECT_CREATOR": frozenset({"user.global.read", "policy.read"}),
    "ORG_ADMIN_IMPERSONATOR": frozenset({"admin.impersonation", "impersonation"}),
    "ORG_END_USER_IMPERSONATOR": frozenset({"impersonation"}),
    "SELF_MANAGEMENT_GLOBAL": frozenset({"org.create", "policy.read", "user.self.delete"}),
    "ORG_USER_SELF_MANAGER": frozenset({"policy.read", "user.self.delete"}),
    "PROJECT_OWNER": _PROJECT_OWNER,
    "PROJECT_OWNER_VIEWER": frozenset(p for p in _PROJECT_OWNER if p.endswith(".read")),
    "PROJECT_OWNER_GLOBAL": _expand(  # no project.grant.* (nor project.grant.member.*), no user.read
        "org.global.read", "policy.read", "project.read", "project.write", "project.delete", "project.member.*",
        "project.role.*", "project.app.*", "user.global.read", "user.grant.*", "user.membership.read",
    ),
    "PROJECT_OWNER_VIEWER_GLOBAL": _expand(
        "policy.read", "project.read", "project.member.read", "project.role.read", "project.app.read",
        "project.grant.read", "project.grant.member.read", "user.global.read", "user.grant.read",
        "user.membership.read",
    ),
    "PROJECT_GRANT_OWNER": _expand(
        "policy.read", "org.global.read", "project.read", "project.grant.read", "project.grant.member.*",
        "user.read", "user.global.read", "user.grant.*", "user.membership.read",
    ),
}
ROLE_PERMISSIONS["PROJECT_GRANT_OWNER_VIEWER"] = frozenset(
    p for p in ROLE_PERMISSIONS["PROJECT_GRANT_OWNER"] if p.endswith(".read")
)

# The prefix a role must carry at each level (`internal/domain/roles.go`).
_LEVEL_PREFIX = {
    MemberLevel.INSTANCE: ("IAM_",),
    MemberLevel.ORG: ("ORG_", "SELF_MANAGEMENT_GLOBAL"),
    MemberLevel.PROJECT: ("PROJECT_",),
    MemberLevel.PROJECT_GRANT: ("PROJECT_GRANT_",),
}


def validate_member_roles(level: MemberLevel, roles: Iterable[str]) -> tuple[str, ...]:
    roles = tuple(dict.fromkeys(roles))
    if not roles:
        raise InvalidArgument("Errors.Member.Invalid", "Member roles must not be empty", error_id="MEMBER-4m0fS")
    prefixes = _LEVEL_PREFIX[level]
    for role in roles:
        if role not in ROLE_PERMISSIONS or not role.startswith(prefixes) or (
            level == MemberLevel.PROJECT and role.startswith("PROJECT_GRANT_")
        ):
            raise InvalidArgument("Errors.Member.Invalid", f"Role {role!r} is not valid here", error_id="MEMBER-ndSNN")
    return roles


def permissions_of(roles: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(out)
