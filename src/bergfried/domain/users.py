"""Human and machine users, their profile, e-mail, phone and address, and login names."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime

from bergfried.domain.common import check_length
from bergfried.domain.ids import OrgId, UserId
from bergfried.errors import InvalidArgument, PreconditionFailed


class UserState(enum.StrEnum):
    UNSPECIFIED = "USER_STATE_UNSPECIFIED"
    ACTIVE = "USER_STATE_ACTIVE"
    INACTIVE = "USER_STATE_INACTIVE"
    DELETED = "USER_STATE_DELETED"
    LOCKED = "USER_STATE_LOCKED"
    SUSPEND = "USER_STATE_SUSPEND"
    INITIAL = "USER_STATE_INITIAL"


class UserType(enum.StrEnum):
    HUMAN = "TYPE_HUMAN"
    MACHINE = "TYPE_MACHINE"


class Gender(enum.StrEnum):
    UNSPECIFIED = "GENDER_UNSPECIFIED"
    FEMALE = "GENDER_FEMALE"
    MALE = "GENDER_MALE"
    DIVERSE = "GENDER_DIVERSE"


class AccessTokenType(enum.StrEnum):
    BEARER = "ACCESS_TOKEN_TYPE_BEARER"
    JWT = "ACCESS_TOKEN_TYPE_JWT"


# OIDC Core §5.1 values for the `gender` claim; ZITADEL maps its enum onto these.
GENDER_CLAIM: dict[Gender, str | None] = {
    Gender.UNSPECIFIED: None,
    Gender.FEMALE: "female",
    Gender.MALE: "male",
    Gender.DIVERSE: "diverse",
}


@dataclass(frozen=True, slots=True)
class Profile:
    first_name: str
    last_name: str
    nick_name: str = ""
    display_name: str = ""
    preferred_language: str = ""
    gender: Gender = Gender.UNSPECIFIED


@dataclass(frozen=True, slots=True)
class Address:
    """The OIDC Core §5.1.1 address; every part optional."""

    formatted: str = ""
    street_address: str = ""
    locality: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class HumanUser:
    id: UserId
    org_id: OrgId
    username: str
    state: UserState
    profile: Profile
    email: str
    is_email_verified: bool
    phone: str = ""
    is_phone_verified: bool = False
    address: Address = field(default_factory=Address)
    password_hash: str | None = None
    password_change_required: bool = False
    password_changed_at: datetime | None = None
    failed_password_attempts: int = 0

    @property
    def display_name(self) -> str:
        return effective_display_name(self.profile)


@dataclass(frozen=True, slots=True)
class MachineUser:
    id: UserId
    org_id: OrgId
    username: str
    state: UserState
    name: str
    description: str = ""
    access_token_type: AccessTokenType = AccessTokenType.BEARER
    has_secret: bool = False


User = HumanUser | MachineUser

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$|^[^@\s]+@[^@\s.]+$")


def validate_username(username: str) -> str:
    username = username.strip()
    return check_length(username, "UserName", min_len=1, max_len=200, message="AddHumanUserRequest")


def validate_profile(profile: Profile) -> Profile:
    msg = "AddHumanUserRequest.Profile"
    check_length(profile.first_name, "FirstName", min_len=1, max_len=200, message=msg)
    check_length(profile.last_name, "LastName", min_len=1, max_len=200, message=msg)
    check_length(profile.nick_name, "NickName", min_len=0, max_len=200, message=msg)
    check_length(profile.display_name, "DisplayName", min_len=0, max_len=200, message=msg)
    check_length(profile.preferred_language, "PreferredLanguage", min_len=0, max_len=10, message=msg)
    return profile


def validate_email(email: str) -> str:
    email = email.strip()
    if not _EMAIL.match(email) or len(email) > 200:
        raise InvalidArgument(
            "Errors.User.Email.Invalid",
            "invalid AddHumanUserRequest.Email.Email: value must be a valid email address",
            error_id="EMAIL-599BI",
        )
    return email


def validate_phone(phone: str) -> str:
    """ZITADEL: 1–50 characters, starting with `+`."""
    phone = phone.strip()
    if phone and (not phone.startswith("+") or len(phone) > 50):
        raise InvalidArgument(
            "Errors.User.Phone.Invalid", "Phone number is invalid", error_id="PHONE-so0wa"
        )
    return phone


def validate_machine(username: str, name: str, description: str) -> None:
    msg = "AddMachineUserRequest"
    check_length(username.strip(), "UserName", min_len=1, max_len=200, message=msg)
    check_length(name, "Name", min_len=1, max_len=200, message=msg)
    check_length(description, "Description", min_len=0, max_len=500, message=msg)


def effective_display_name(profile: Profile) -> str:
    """ZITADEL fills an empty display name with `first last`."""
    return profile.display_name or f"{profile.first_name} {profile.last_name}".strip()


def login_names(username: str, verified_domains: list[str], *, must_be_domain: bool) -> list[str]:
    """Every name a user may log in with, ZITADEL's rule (`user_by_login_name.sql`): with the
    domain policy `userLoginMustBeDomain` each verified org domain gives `username@domain`,
    otherwise the bare user name is the only login name."""
    if not must_be_domain:
        return [username]
    return [f"{username}@{domain}" for domain in verified_domains]


def preferred_login_name(username: str, primary_domain: str, *, must_be_domain: bool) -> str:
    """`username@primarydomain`, the `preferred_username` claim (seed 003)."""
    return f"{username}@{primary_domain}" if must_be_domain else username


def ensure_can_log_in(state: UserState) -> None:
    """The login-name and password checks refuse inactive and locked users (spec/login.md §3)."""
    if state == UserState.INACTIVE:
        raise PreconditionFailed("Errors.User.Inactive", "User is inactive", error_id="AUTH-4M9s2")
    if state == UserState.LOCKED:
        raise PreconditionFailed("Errors.User.Locked", "User is locked", error_id="COMMAND-3n8fs")
    if state in (UserState.DELETED, UserState.UNSPECIFIED):
        raise PreconditionFailed("Errors.User.NotFound", "User could not be found", error_id="QUERY-Dfbg2")


# Which state changes are allowed, as ZITADEL's commands check them.
_TRANSITIONS: dict[str, tuple[frozenset[UserState], UserState, str, str]] = {
    "deactivate": (frozenset({UserState.ACTIVE, UserState.LOCKED}), UserState.INACTIVE,
                   "Errors.User.AlreadyInactive", "User already inactive"),
    "reactivate": (frozenset({UserState.INACTIVE}), UserState.ACTIVE,
                   "Errors.User.NotInactive", "User is not inactive"),
    "lock": (frozenset({UserState.ACTIVE, UserState.INITIAL}), UserState.LOCKED,
             "Errors.User.ShouldBeActiveOrInitial", "User is not active or initial"),
    "unlock": (frozenset({UserState.LOCKED}), UserState.ACTIVE,
               "Errors.User.NotLocked", "User is not locked"),
}


def next_state(current: UserState, change: str) -> UserState:
    """The state after `deactivate`, `reactivate`, `lock` or `unlock`, or a precondition error."""
    allowed, target, key, text = _TRANSITIONS[change]
    if change == "deactivate" and current == UserState.INITIAL:  # `DeactivateUser`, COMMAND-ke0fw
        raise PreconditionFailed(
            "Errors.User.CantDeactivateInitial", "User in state initial cannot be deactivated",
            error_id="COMMAND-ke0fw",
        )
    if current not in allowed:
        raise PreconditionFailed(key, text, error_id="COMMAND-" + change[:5])
    return target
