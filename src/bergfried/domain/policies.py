"""Login, lockout, password complexity and domain policies with ZITADEL's defaults
(`cmd/defaults.yaml` `DefaultInstance.*`), and the pure checks they drive."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from bergfried.errors import InvalidArgument


@dataclass(frozen=True, slots=True)
class PasswordComplexityPolicy:
    min_length: int = 8
    has_lowercase: bool = True
    has_uppercase: bool = True
    has_number: bool = True
    has_symbol: bool = True


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """`max_password_attempts` 0 means never lock (ZITADEL's default)."""

    max_password_attempts: int = 0
    max_otp_attempts: int = 0
    show_lockout_failure: bool = True


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    allow_username_password: bool = True
    allow_register: bool = True
    allow_external_idp: bool = True
    force_mfa: bool = False
    hide_password_reset: bool = False
    ignore_unknown_usernames: bool = False
    allow_domain_discovery: bool = True
    disable_login_with_email: bool = False
    disable_login_with_phone: bool = False
    password_check_lifetime: timedelta = timedelta(hours=240)
    external_login_check_lifetime: timedelta = timedelta(hours=240)
    mfa_init_skip_lifetime: timedelta = timedelta(hours=720)
    second_factor_check_lifetime: timedelta = timedelta(hours=18)
    multi_factor_check_lifetime: timedelta = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class DomainPolicy:
    """With `user_login_must_be_domain` login names are `username@orgdomain`, which is what the
    seed guide's `preferred_username` (`loginname@primarydomain`) shows."""

    user_login_must_be_domain: bool = True
    validate_org_domains: bool = False


# Checked in ZITADEL's order; the first failing rule names the error.
_RULES: tuple[tuple[str, re.Pattern[str], str, str], ...] = (
    ("has_lowercase", re.compile(r"[a-z]"), "HasLower", "Password must contain lower case"),
    ("has_uppercase", re.compile(r"[A-Z]"), "HasUpper", "Password must contain upper case"),
    ("has_number", re.compile(r"[0-9]"), "HasNumber", "Password must contain number"),
    ("has_symbol", re.compile(r"[^A-Za-z0-9]"), "HasSymbol", "Password must contain symbol"),
)


def check_password(policy: PasswordComplexityPolicy, password: str) -> None:
    """Raise INVALID_ARGUMENT `Errors.User.PasswordComplexityPolicy.*` for the first rule broken
    (`internal/domain/policy_password_complexity.go`); length counts bytes as ZITADEL does."""
    prefix = "Errors.User.PasswordComplexityPolicy."
    if len(password.encode("utf-8")) < policy.min_length:
        raise InvalidArgument(prefix + "MinLength", "Password is too short", error_id="DOMAIN-HuJf6")
    for attribute, pattern, key, text in _RULES:
        if getattr(policy, attribute) and not pattern.search(password):
            raise InvalidArgument(prefix + key, text, error_id="DOMAIN-" + key)


def locks_after_failure(policy: LockoutPolicy, failed_attempts_after: int) -> bool:
    """The failure that brings the count to the maximum also locks the user."""
    return policy.max_password_attempts > 0 and failed_attempts_after >= policy.max_password_attempts
