"""Members: role names per level and the role → permission table of spec/roles-and-permissions.md."""

from __future__ import annotations

import pytest

from bergfried.domain.members import ROLE_PERMISSIONS, MemberLevel, permissions_of, validate_member_roles
from bergfried.errors import InvalidArgument

MAPPING = "spec/roles-and-permissions.md §3"
LEVELS = "spec/roles-and-permissions.md §1"


def spec(*items: str) -> frozenset[str]:
    """The spec's notation: `x.*` abbreviates `x.read x.write x.delete`."""
    out: set[str] = set()
    for item in items:
        if item.endswith(".*"):
            out.update(item[:-1] + suffix for suffix in ("read", "write", "delete"))
        else:
            out.add(item)
    return frozenset(out)


# --- role names per level -------------------------------------------------------------------


@pytest.mark.rule(LEVELS)
@pytest.mark.parametrize(
    ("level", "roles"),
    [
        (MemberLevel.INSTANCE, ["IAM_OWNER"]),
        (MemberLevel.INSTANCE, ["IAM_OWNER_VIEWER", "IAM_LOGIN_CLIENT"]),
        (MemberLevel.ORG, ["ORG_OWNER"]),
        (MemberLevel.ORG, ["ORG_USER_MANAGER", "ORG_PROJECT_CREATOR"]),
        (MemberLevel.ORG, ["SELF_MANAGEMENT_GLOBAL"]),
        (MemberLevel.PROJECT, ["PROJECT_OWNER"]),
        (MemberLevel.PROJECT, ["PROJECT_OWNER_VIEWER", "PROJECT_OWNER_GLOBAL"]),
        (MemberLevel.PROJECT_GRANT, ["PROJECT_GRANT_OWNER"]),
        (MemberLevel.PROJECT_GRANT, ["PROJECT_GRANT_OWNER_VIEWER"]),
    ],
)
def test_roles_with_the_level_prefix_are_accepted(level: MemberLevel, roles: list[str]) -> None:
    assert validate_member_roles(level, roles) == tuple(roles)


@pytest.mark.rule(LEVELS)
@pytest.mark.parametrize(
    ("level", "role"),
    [
        (MemberLevel.INSTANCE, "ORG_OWNER"),
        (MemberLevel.INSTANCE, "PROJECT_OWNER"),
        (MemberLevel.INSTANCE, "SELF_MANAGEMENT_GLOBAL"),
        (MemberLevel.ORG, "IAM_OWNER"),
        (MemberLevel.ORG, "PROJECT_OWNER"),
        (MemberLevel.PROJECT, "ORG_OWNER"),
        (MemberLevel.PROJECT, "PROJECT_GRANT_OWNER"),
        (MemberLevel.PROJECT_GRANT, "PROJECT_OWNER"),
        (MemberLevel.PROJECT_GRANT, "IAM_OWNER"),
    ],
)
def test_role_of_another_level_is_invalid(level: MemberLevel, role: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_member_roles(level, [role])
    assert caught.value.key == "Errors.Member.Invalid"


@pytest.mark.rule(LEVELS)
@pytest.mark.parametrize("role", ["ORG_NOPE", "ORG_OWNER ", "org_owner", "ORG_", ""])
def test_unknown_role_with_a_valid_prefix_is_invalid(role: str) -> None:
    with pytest.raises(InvalidArgument):
        validate_member_roles(MemberLevel.ORG, [role])


def test_member_roles_must_not_be_empty() -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_member_roles(MemberLevel.ORG, [])
    assert caught.value.key == "Errors.Member.Invalid"


def test_duplicate_member_roles_are_dropped_in_order() -> None:
    assert validate_member_roles(MemberLevel.ORG, ["ORG_OWNER", "ORG_USER_MANAGER", "ORG_OWNER"]) == (
        "ORG_OWNER", "ORG_USER_MANAGER",
    )


@pytest.mark.rule(LEVELS)
def test_every_known_role_belongs_to_exactly_one_level() -> None:
    for role in ROLE_PERMISSIONS:
        accepted = []
        for level in MemberLevel:
            try:
                validate_member_roles(level, [role])
            except InvalidArgument:
                continue
            accepted.append(level)
        assert len(accepted) == 1, (role, accepted)


# --- the table ------------------------------------------------------------------------------

SPEC_ROLES = [
    "IAM_OWNER", "IAM_OWNER_VIEWER", "IAM_ORG_MANAGER", "IAM_USER_MANAGER", "IAM_LOGIN_CLIENT",
    "IAM_ADMIN_IMPERSONATOR", "IAM_END_USER_IMPERSONATOR",
    "ORG_OWNER", "ORG_OWNER_VIEWER", "ORG_USER_MANAGER", "ORG_SETTINGS_MANAGER", "ORG_USER_PERMISSION_EDITOR",
    "ORG_PROJECT_PERMISSION_EDITOR", "ORG_PROJECT_CREATOR", "ORG_ADMIN_IMPERSONATOR", "ORG_END_USER_IMPERSONATOR",
    "SELF_MANAGEMENT_GLOBAL", "ORG_USER_SELF_MANAGER",
    "PROJECT_OWNER", "PROJECT_OWNER_VIEWER", "PROJECT_OWNER_GLOBAL", "PROJECT_OWNER_VIEWER_GLOBAL",
    "PROJECT_GRANT_OWNER", "PROJECT_GRANT_OWNER_VIEWER",
]


@pytest.mark.rule(MAPPING)
@pytest.mark.parametrize("role", SPEC_ROLES)
def test_every_role_of_the_spec_has_a_row(role: str) -> None:
    assert ROLE_PERMISSIONS[role]


@pytest.mark.rule(MAPPING)
def test_org_owner_lacks_org_create_and_project_app_delete() -> None:
    assert "org.create" not in ROLE_PERMISSIONS["ORG_OWNER"]
    assert "project.app.delete" not in ROLE_PERMISSIONS["ORG_OWNER"]


@pytest.mark.rule(MAPPING)
def test_iam_owner_has_org_create_and_project_app_delete() -> None:
    assert {"org.create", "project.app.delete", "project.create"} <= ROLE_PERMISSIONS["IAM_OWNER"]


@pytest.mark.rule(MAPPING)
def test_iam_owner_has_everything_the_spec_lists() -> None:
    expected = spec(
        "iam.*", "iam.policy.*", "iam.member.*", "iam.idp.*", "iam.action.*", "iam.flow.*", "iam.feature.*",
        "iam.restrictions.read", "iam.restrictions.write", "iam.web_key.*", "iam.debug.read", "iam.debug.write",
        "org.create", "org.global.read", "user.global.read", "user.credential.write", "user.passkey.write",
        "user.membership.read", "policy.*", "project.create", "events.read", "milestones.read",
        "session.read", "session.write", "session.delete", "action.target.*", "action.execution.read",
        "action.execution.write", "userschema.*",
    )
    assert expected <= ROLE_PERMISSIONS["IAM_OWNER"]
    assert ROLE_PERMISSIONS["ORG_OWNER"] <= ROLE_PERMISSIONS["IAM_OWNER"]
    assert ROLE_PERMISSIONS["PROJECT_OWNER"] <= ROLE_PERMISSIONS["IAM_OWNER"]


@pytest.mark.rule(MAPPING)
def test_iam_login_client_has_session_link_and_iam_owner_has_not() -> None:
    assert "session.link" in ROLE_PERMISSIONS["IAM_LOGIN_CLIENT"]
    assert "session.link" not in ROLE_PERMISSIONS["IAM_OWNER"]


@pytest.mark.rule(MAPPING)
def test_iam_owner_viewer_is_read_only_with_events_and_sessions() -> None:
    viewer = ROLE_PERMISSIONS["IAM_OWNER_VIEWER"]
    assert all(p.endswith(".read") for p in viewer)
    assert {"events.read", "session.read", "org.read", "user.read", "project.read"} <= viewer


EXACT = {
    "IAM_USER_MANAGER": spec(
        "org.read", "org.global.read", "org.member.read", "org.member.delete", "user.read", "user.global.read",
        "user.write", "user.delete", "user.grant.*", "user.membership.read", "user.passkey.write",
        "user.feature.*", "project.read", "project.member.read", "project.role.read", "project.app.read",
        "project.grant.read", "project.grant.write", "project.grant.delete", "project.grant.member.read",
        "session.read", "session.delete",
    ),
    "IAM_LOGIN_CLIENT": spec(
        "iam.read", "iam.policy.read", "iam.member.read", "iam.member.write", "iam.idp.read", "iam.feature.read",
        "iam.restrictions.read", "org.read", "org.member.read", "org.member.write", "org.idp.read",
        "org.feature.read", "user.read", "user.write", "user.grant.read", "user.grant.write",
        "user.membership.read", "user.credential.write", "user.passkey.write", "user.feature.read",
        "policy.read", "project.read", "project.member.read", "project.member.write", "project.role.read",
        "project.app.read", "project.grant.read", "project.grant.member.read", "project.grant.member.write",
        "session.read", "session.write", "session.link", "session.delete", "userschema.read",
    ),
    "IAM_ADMIN_IMPERSONATOR": spec("admin.impersonation", "impersonation"),
    "IAM_END_USER_IMPERSONATOR": spec("impersonation"),
    "ORG_OWNER": spec(
        "org.read", "org.global.read", "org.write", "org.delete", "org.member.*", "org.idp.*", "org.action.*",
        "org.flow.*", "org.feature.*", "user.read", "user.global.read", "user.write", "user.delete",
        "user.grant.*", "user.membership.read", "user.credential.write", "user.passkey.write", "user.feature.*",
        "policy.*", "project.read", "project.create", "project.write", "project.delete", "project.member.*",
        "project.role.*", "project.app.read", "project.app.write", "project.grant.*", "project.grant.member.*",
        "session.read", "session.delete",
    ),
    "ORG_OWNER_VIEWER": spec(
        "org.read", "org.member.read", "org.idp.read", "org.action.read", "org.flow.read", "org.feature.read",
        "user.read", "user.global.read", "user.grant.read", "user.membership.read", "user.feature.read",
        "policy.read", "project.read", "project.member.read", "project.role.read", "project.app.read",
        "project.grant.read", "project.grant.member.read", "project.grant.user.grant.read",
    ),
    "ORG_USER_MANAGER": spec(
        "org.read", "user.read", "user.global.read", "user.write", "user.delete", "user.grant.*",
        "user.membership.read", "user.feature.*", "policy.read", "project.read", "project.role.read",
        "session.read", "session.delete",
    ),
    "ORG_SETTINGS_MANAGER": spec("org.read", "org.write", "org.member.read", "org.idp.*", "org.feature.*", "policy.*"),
    "ORG_USER_PERMISSION_EDITOR": spec(
        "org.read", "org.member.read", "user.read", "user.global.read", "user.grant.*", "policy.read",
        "project.read", "project.member.read", "project.role.read", "project.app.read", "project.grant.read",
        "project.grant.member.read",
    ),
    "ORG_PROJECT_PERMISSION_EDITOR": spec(
        "org.read", "org.member.read", "user.read", "user.global.read", "user.grant.*", "policy.read",
        "project.read", "project.member.read", "project.role.read", "project.app.read", "project.grant.read",
        "project.grant.member.read", "project.grant.write", "project.grant.delete",
    ),
    "ORG_PROJECT_CREATOR": spec("user.global.read", "policy.read"),
    "ORG_ADMIN_IMPERSONATOR": spec("admin.impersonation", "impersonation"),
    "ORG_END_USER_IMPERSONATOR": spec("impersonation"),
    "SELF_MANAGEMENT_GLOBAL": spec("org.create", "policy.read", "user.self.delete"),
    "ORG_USER_SELF_MANAGER": spec("policy.read", "user.self.delete"),
    "PROJECT_OWNER": spec(
        "org.global.read", "policy.read", "project.read", "project.write", "project.delete", "project.member.*",
        "project.role.*", "project.app.*", "project.grant.*", "project.grant.member.*", "user.read",
        "user.global.read", "user.grant.*", "user.membership.read",
    ),
    "PROJECT_OWNER_GLOBAL": spec(
        "org.global.read", "policy.read", "project.read", "project.write", "project.delete", "project.member.*",
        "project.role.*", "project.app.*", "user.global.read", "user.grant.*", "user.membership.read",
    ),
    "PROJECT_OWNER_VIEWER_GLOBAL": spec(
        "policy.read", "project.read", "project.member.read", "project.role.read", "project.app.read",
        "project.grant.read", "project.grant.member.read", "user.global.read", "user.grant.read",
        "user.membership.read",
    ),
    "PROJECT_GRANT_OWNER": spec(
        "policy.read", "org.global.read", "project.read", "project.grant.read", "project.grant.member.*",
        "user.read", "user.global.read", "user.grant.*", "user.membership.read",
    ),
}


@pytest.mark.rule(MAPPING)
@pytest.mark.parametrize("role", sorted(EXACT))
def test_role_has_exactly_the_permissions_the_spec_lists(role: str) -> None:
    actual = ROLE_PERMISSIONS[role]
    expected = EXACT[role]
    assert actual == expected, {"missing": sorted(expected - actual), "extra": sorted(actual - expected)}


@pytest.mark.rule(MAPPING)
@pytest.mark.parametrize(
    "viewer",
    ["IAM_OWNER_VIEWER", "ORG_OWNER_VIEWER", "PROJECT_OWNER_VIEWER", "PROJECT_OWNER_VIEWER_GLOBAL",
     "PROJECT_GRANT_OWNER_VIEWER"],
)
def test_viewer_roles_only_read(viewer: str) -> None:
    assert all(permission.endswith(".read") for permission in ROLE_PERMISSIONS[viewer])


@pytest.mark.rule(MAPPING)
@pytest.mark.parametrize(("viewer", "owner"), [("PROJECT_OWNER_VIEWER", "PROJECT_OWNER"),
                                               ("PROJECT_GRANT_OWNER_VIEWER", "PROJECT_GRANT_OWNER")])
def test_viewer_role_is_the_read_part_of_its_owner_role(viewer: str, owner: str) -> None:
    assert ROLE_PERMISSIONS[viewer] == {p for p in ROLE_PERMISSIONS[owner] if p.endswith(".read")}


@pytest.mark.rule(MAPPING)
def test_iam_org_manager_can_create_orgs_and_manage_everything_an_org_owner_can() -> None:
    manager = ROLE_PERMISSIONS["IAM_ORG_MANAGER"]
    assert "org.create" in manager
    assert ROLE_PERMISSIONS["ORG_OWNER"] <= manager
    assert {"session.read", "session.delete"} <= manager


# The matrix "What each common role may do on the endpoints in management-api.md".
MATRIX_ROLES = ["IAM_OWNER", "ORG_OWNER", "ORG_USER_MANAGER", "PROJECT_OWNER", "IAM_LOGIN_CLIENT"]
MATRIX = [
    ("org.create", [True, False, False, False, False]),
    ("org.read", [True, True, True, False, True]),
    ("org.write", [True, True, False, False, False]),
    ("user.write", [True, True, True, False, True]),
    ("user.read", [True, True, True, True, True]),
    ("project.create", [True, True, False, False, False]),
    ("project.role.write", [True, True, False, True, False]),
    ("project.app.write", [True, True, False, True, False]),
    ("project.app.delete", [True, False, False, True, False]),
    ("user.grant.write", [True, True, True, True, True]),
    ("project.grant.write", [True, True, False, True, False]),
    ("session.write", [True, False, False, False, True]),
    ("session.link", [False, False, False, False, True]),
]


@pytest.mark.rule("spec/roles-and-permissions.md §3 (what each common role may do)")
@pytest.mark.parametrize(("permission", "allowed"), MATRIX, ids=[row[0] for row in MATRIX])
def test_common_roles_match_the_endpoint_matrix(permission: str, allowed: list[bool]) -> None:
    actual = [permission in ROLE_PERMISSIONS[role] for role in MATRIX_ROLES]
    assert actual == allowed


def test_permissions_of_several_roles_is_their_union() -> None:
    combined = permissions_of(["ORG_PROJECT_CREATOR", "ORG_USER_SELF_MANAGER"])
    assert combined == {"user.global.read", "policy.read", "user.self.delete"}


def test_permissions_of_an_unknown_role_are_empty() -> None:
    assert permissions_of(["NO_SUCH_ROLE"]) == frozenset()
    assert permissions_of([]) == frozenset()
