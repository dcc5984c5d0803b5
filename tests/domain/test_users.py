"""Users: validation of the AddHumanUser / AddMachineUser fields, login names, state changes."""

from __future__ import annotations

import pytest

from bergfried.domain.ids import OrgId, UserId
from bergfried.domain.users import (
    GENDER_CLAIM,
    Gender,
    HumanUser,
    Profile,
    UserState,
    effective_display_name,
    ensure_can_log_in,
    login_names,
    next_state,
    preferred_login_name,
    validate_email,
    validate_machine,
    validate_phone,
    validate_profile,
    validate_username,
)
from bergfried.errors import InvalidArgument, PreconditionFailed

VALIDATION = "spec/management-api.md §5.1"


def profile(**changes: str) -> Profile:
    values = {"first_name": "Road", "last_name": "Runner"}
    values.update(changes)
    return Profile(**values)  # type: ignore[arg-type]


# --- user name ------------------------------------------------------------------------------


@pytest.mark.rule(VALIDATION)
@pytest.mark.parametrize("username", ["r", "road.runner", "x" * 200, "ü" * 200])
def test_username_of_1_to_200_runes_is_accepted(username: str) -> None:
    assert validate_username(username) == username


@pytest.mark.rule(VALIDATION)
def test_username_is_trimmed() -> None:
    assert validate_username("  road.runner \t") == "road.runner"


@pytest.mark.rule(VALIDATION)
@pytest.mark.parametrize("username", ["", "   ", "x" * 201])
def test_username_empty_or_longer_than_200_is_invalid(username: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_username(username)
    assert "AddHumanUserRequest.UserName" in caught.value.description
    assert "between 1 and 200 runes" in caught.value.description


# --- profile --------------------------------------------------------------------------------


@pytest.mark.rule(VALIDATION)
def test_profile_with_maximal_lengths_is_accepted() -> None:
    full = profile(first_name="f" * 200, last_name="l" * 200, nick_name="n" * 200, display_name="d" * 200,
                   preferred_language="x" * 10)
    assert validate_profile(full) is full


@pytest.mark.rule(VALIDATION)
def test_profile_optional_fields_may_be_empty() -> None:
    assert validate_profile(profile(nick_name="", display_name="", preferred_language="")).nick_name == ""


@pytest.mark.rule(VALIDATION)
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"first_name": ""}, "FirstName"),
        ({"last_name": ""}, "LastName"),
        ({"first_name": "f" * 201}, "FirstName"),
        ({"last_name": "l" * 201}, "LastName"),
        ({"nick_name": "n" * 201}, "NickName"),
        ({"display_name": "d" * 201}, "DisplayName"),
        ({"preferred_language": "x" * 11}, "PreferredLanguage"),
    ],
)
def test_profile_field_out_of_bounds_is_invalid_and_named(changes: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_profile(profile(**changes))
    assert f"AddHumanUserRequest.Profile.{field}:" in caught.value.description


# --- e-mail ---------------------------------------------------------------------------------


@pytest.mark.rule(VALIDATION)
@pytest.mark.parametrize(
    "email", ["road.runner@acme.com", "a+tag@sub.example.co.uk", "admin@localhost", "ü@exämple.ch"]
)
def test_valid_email_is_accepted(email: str) -> None:
    assert validate_email(email) == email


@pytest.mark.rule(VALIDATION)
def test_email_is_trimmed() -> None:
    assert validate_email("  road.runner@acme.com ") == "road.runner@acme.com"


@pytest.mark.rule(VALIDATION)
@pytest.mark.parametrize(
    "email",
    ["", "road.runner", "@acme.com", "road@", "road@@acme.com", "road runner@acme.com", "a@b@c.com",
     "x" * 190 + "@example.com"],
)
def test_invalid_email_is_rejected_with_zitadels_key(email: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_email(email)
    assert caught.value.key == "Errors.User.Email.Invalid"


# --- phone ----------------------------------------------------------------------------------


@pytest.mark.rule(VALIDATION)
@pytest.mark.parametrize("phone", ["+41791234567", "+1", "+" + "1" * 49])
def test_phone_starting_with_plus_up_to_50_characters_is_accepted(phone: str) -> None:
    assert validate_phone(phone) == phone


@pytest.mark.rule(VALIDATION)
@pytest.mark.parametrize("phone", ["0791234567", "41791234567", "0041791234567", "+" + "1" * 50, "tel:+4179"])
def test_phone_not_starting_with_plus_or_too_long_is_invalid(phone: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_phone(phone)
    assert caught.value.key == "Errors.User.Phone.Invalid"


def test_phone_is_optional_and_trimmed() -> None:
    assert validate_phone("") == ""
    assert validate_phone("  +41791234567 ") == "+41791234567"


# --- machine users --------------------------------------------------------------------------

MACHINE = "spec/management-api.md §5.2"


@pytest.mark.rule(MACHINE)
def test_machine_with_maximal_lengths_is_accepted() -> None:
    validate_machine("u" * 200, "n" * 200, "d" * 500)
    validate_machine("sa", "Service", "")


@pytest.mark.rule(MACHINE)
@pytest.mark.parametrize(
    ("username", "name", "description", "field"),
    [
        ("", "Service", "", "UserName"),
        ("   ", "Service", "", "UserName"),
        ("u" * 201, "Service", "", "UserName"),
        ("sa", "", "", "Name"),
        ("sa", "n" * 201, "", "Name"),
        ("sa", "Service", "d" * 501, "Description"),
    ],
)
def test_machine_field_out_of_bounds_is_invalid(username: str, name: str, description: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate_machine(username, name, description)
    assert f"AddMachineUserRequest.{field}:" in caught.value.description


# --- login names ----------------------------------------------------------------------------

LOGIN_NAMES = "spec/management-api.md §5.1 (login names)"


@pytest.mark.rule(LOGIN_NAMES)
def test_login_names_with_must_be_domain_are_username_at_each_verified_domain() -> None:
    names = login_names("road.runner", ["acme.zitadel.cloud", "acme.ch"], must_be_domain=True)
    assert names == ["road.runner@acme.zitadel.cloud", "road.runner@acme.ch"]


@pytest.mark.rule(LOGIN_NAMES)
def test_login_names_without_must_be_domain_are_the_bare_username() -> None:
    assert login_names("road.runner", ["acme.zitadel.cloud", "acme.ch"], must_be_domain=False) == ["road.runner"]


@pytest.mark.rule(LOGIN_NAMES)
def test_login_names_with_must_be_domain_and_no_verified_domain_are_empty() -> None:
    assert login_names("road.runner", [], must_be_domain=True) == []


@pytest.mark.rule("seeds/003 preferred_username: username@primarydomain")
def test_preferred_login_name_with_must_be_domain_uses_the_primary_domain() -> None:
    assert preferred_login_name("road.runner", "acme.zitadel.cloud", must_be_domain=True) == (
        "road.runner@acme.zitadel.cloud"
    )


@pytest.mark.rule("spec/claims.md preferred_username")
def test_preferred_login_name_without_must_be_domain_is_the_bare_username() -> None:
    assert preferred_login_name("end-user", "acme.zitadel.cloud", must_be_domain=False) == "end-user"


# --- log-in gate ----------------------------------------------------------------------------


@pytest.mark.rule("spec/login.md §3")
@pytest.mark.parametrize("state", [UserState.ACTIVE, UserState.INITIAL])
def test_active_and_initial_users_may_log_in(state: UserState) -> None:
    ensure_can_log_in(state)


@pytest.mark.rule("spec/login.md §3")
@pytest.mark.parametrize(
    ("state", "key", "text"),
    [
        (UserState.INACTIVE, "Errors.User.Inactive", "User is inactive"),
        (UserState.LOCKED, "Errors.User.Locked", "User is locked"),
        (UserState.DELETED, "Errors.User.NotFound", "User could not be found"),
        (UserState.UNSPECIFIED, "Errors.User.NotFound", "User could not be found"),
    ],
)
def test_inactive_locked_and_deleted_users_may_not_log_in(state: UserState, key: str, text: str) -> None:
    with pytest.raises(PreconditionFailed) as caught:
        ensure_can_log_in(state)
    assert caught.value.key == key
    assert caught.value.description == text


# --- state changes --------------------------------------------------------------------------

STATES = "spec/management-api.md §5.1 (Deactivate/Reactivate/Lock/UnlockUser)"


@pytest.mark.rule(STATES)
@pytest.mark.parametrize(
    ("current", "change", "after"),
    [
        (UserState.ACTIVE, "deactivate", UserState.INACTIVE),
        (UserState.LOCKED, "deactivate", UserState.INACTIVE),
        (UserState.INACTIVE, "reactivate", UserState.ACTIVE),
        (UserState.ACTIVE, "lock", UserState.LOCKED),
        (UserState.INITIAL, "lock", UserState.LOCKED),
        (UserState.LOCKED, "unlock", UserState.ACTIVE),
    ],
)
def test_allowed_state_change_gives_the_next_state(current: UserState, change: str, after: UserState) -> None:
    assert next_state(current, change) == after


@pytest.mark.rule(STATES)
@pytest.mark.parametrize(
    ("current", "change", "key"),
    [
        (UserState.INACTIVE, "deactivate", "Errors.User.AlreadyInactive"),
        (UserState.ACTIVE, "reactivate", "Errors.User.NotInactive"),
        (UserState.LOCKED, "reactivate", "Errors.User.NotInactive"),
        (UserState.INITIAL, "reactivate", "Errors.User.NotInactive"),
        (UserState.LOCKED, "lock", "Errors.User.ShouldBeActiveOrInitial"),
        (UserState.INACTIVE, "lock", "Errors.User.ShouldBeActiveOrInitial"),
        (UserState.ACTIVE, "unlock", "Errors.User.NotLocked"),
        (UserState.INACTIVE, "unlock", "Errors.User.NotLocked"),
        (UserState.INITIAL, "unlock", "Errors.User.NotLocked"),
    ],
)
def test_state_change_from_wrong_state_is_a_failed_precondition(current: UserState, change: str, key: str) -> None:
    with pytest.raises(PreconditionFailed) as caught:
        next_state(current, change)
    assert caught.value.key == key
    assert caught.value.grpc_code == 9
    assert caught.value.http_status == 400


@pytest.mark.rule("zitadel internal/command/user.go DeactivateUser (COMMAND-ke0fw)")
def test_user_in_initial_state_cannot_be_deactivated() -> None:
    with pytest.raises(PreconditionFailed) as caught:
        next_state(UserState.INITIAL, "deactivate")
    assert caught.value.key == "Errors.User.CantDeactivateInitial"


def test_lock_then_unlock_returns_to_active() -> None:
    assert next_state(next_state(UserState.ACTIVE, "lock"), "unlock") == UserState.ACTIVE


def test_deactivate_then_reactivate_returns_to_active() -> None:
    assert next_state(next_state(UserState.ACTIVE, "deactivate"), "reactivate") == UserState.ACTIVE


# --- display name and claims ----------------------------------------------------------------


def test_effective_display_name_prefers_the_set_display_name() -> None:
    assert effective_display_name(profile(display_name="RR")) == "RR"


def test_effective_display_name_falls_back_to_first_and_last_name() -> None:
    assert effective_display_name(profile()) == "Road Runner"


def test_human_user_display_name_is_the_effective_display_name() -> None:
    user = HumanUser(
        id=UserId("1"), org_id=OrgId("2"), username="road.runner", state=UserState.ACTIVE, profile=profile(),
        email="road.runner@acme.com", is_email_verified=True,
    )
    assert user.display_name == "Road Runner"


@pytest.mark.rule("OIDC Core §5.1 gender")
def test_gender_claim_uses_oidc_values_and_omits_unspecified() -> None:
    assert GENDER_CLAIM[Gender.FEMALE] == "female"
    assert GENDER_CLAIM[Gender.MALE] == "male"
    assert GENDER_CLAIM[Gender.UNSPECIFIED] is None
    assert set(GENDER_CLAIM) == set(Gender)


@pytest.mark.rule(VALIDATION)
def test_user_state_names_are_zitadels() -> None:
    assert [state.value for state in UserState] == [
        "USER_STATE_UNSPECIFIED", "USER_STATE_ACTIVE", "USER_STATE_INACTIVE", "USER_STATE_DELETED",
        "USER_STATE_LOCKED", "USER_STATE_SUSPEND", "USER_STATE_INITIAL",
    ]
