"""Policies: ZITADEL's defaults, the password complexity check in ZITADEL's order, lockout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bergfried.domain.policies import (
    LockoutPolicy,
    LoginPolicy,
    PasswordComplexityPolicy,
    check_password,
    locks_after_failure,
)
from bergfried.errors import InvalidArgument

PASSWORDS = "spec/login.md §5 (password complexity)"
LOCKOUT = "spec/login.md §5 (lockout policy)"
PREFIX = "Errors.User.PasswordComplexityPolicy."
DEFAULT = PasswordComplexityPolicy()


def failing_rule(policy: PasswordComplexityPolicy, password: str) -> str | None:
    """The rule name of the error key (`MinLength`, `HasLower`, ...), or None if the password passes."""
    try:
        check_password(policy, password)
    except InvalidArgument as exc:
        key = exc.key
    else:
        return None
    if not key.startswith(PREFIX):
        pytest.fail(f"unexpected error key {key}")
    return key.removeprefix(PREFIX)


@pytest.mark.rule(PASSWORDS)
def test_password_complexity_defaults_are_8_characters_and_all_classes() -> None:
    expected = PasswordComplexityPolicy(
        min_length=8, has_lowercase=True, has_uppercase=True, has_number=True, has_symbol=True
    )
    assert expected == DEFAULT


@pytest.mark.rule(PASSWORDS)
@pytest.mark.parametrize("password", ["Password1!", "Secr3tP4ssw0rd!", "aA1!aA1!", "Zz9 zzzz"])
def test_password_meeting_every_rule_passes(password: str) -> None:
    assert failing_rule(DEFAULT, password) is None


@pytest.mark.rule(PASSWORDS)
@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("", "MinLength"),
        ("aA1!", "MinLength"),  # too short *and* fine otherwise: length first
        ("abc", "MinLength"),  # too short and lacking classes: still length first
        ("12345678", "HasLower"),  # lacks lower, upper and symbol: lower first
        ("ABCDEFG1!", "HasLower"),
        ("abcdefg1!", "HasUpper"),
        ("abcdEFG!", "HasNumber"),
        ("abcdEFG1", "HasSymbol"),
        ("abcdefgh", "HasUpper"),  # lacks upper, number and symbol: upper first
        ("abcdEFGH", "HasNumber"),  # lacks number and symbol: number first
    ],
)
def test_first_broken_rule_in_zitadels_order_names_the_error(password: str, rule: str) -> None:
    assert failing_rule(DEFAULT, password) == rule


@pytest.mark.rule(PASSWORDS + " (byte length ≥ min)")
def test_minimum_length_counts_utf8_bytes() -> None:
    policy = PasswordComplexityPolicy(min_length=8, has_symbol=False)
    assert len("aA1äää".encode()) == 9
    assert failing_rule(policy, "aA1äää") is None  # 6 characters but 9 bytes
    assert failing_rule(policy, "aA1abcd") == "MinLength"  # 7 characters, 7 bytes


@pytest.mark.rule(PASSWORDS + " (contains [a-z], ASCII only)")
def test_non_ascii_lower_case_letters_do_not_count_as_lower_case() -> None:
    assert failing_rule(DEFAULT, "ÄÖÜäöü1!A") == "HasLower"


@pytest.mark.rule(PASSWORDS + " (any char outside [A-Za-z0-9])")
@pytest.mark.parametrize("symbol", ["!", " ", "ä", "€", "_", "-"])
def test_any_character_outside_ascii_letters_and_digits_is_a_symbol(symbol: str) -> None:
    assert failing_rule(DEFAULT, "abcdEF12" + symbol) is None


@pytest.mark.rule(PASSWORDS)
def test_disabled_rules_are_not_checked() -> None:
    lenient = PasswordComplexityPolicy(min_length=1, has_lowercase=False, has_uppercase=False, has_number=False,
                                       has_symbol=False)
    assert failing_rule(lenient, "x") is None
    assert failing_rule(lenient, "") == "MinLength"
    assert failing_rule(PasswordComplexityPolicy(has_symbol=False), "abcdEF12") is None


@pytest.mark.rule("spec/management-api.md §5.1 (INVALID_ARGUMENT Errors.User.PasswordComplexityPolicy.*)")
def test_complexity_failure_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument) as caught:
        check_password(DEFAULT, "short")
    assert caught.value.key == "Errors.User.PasswordComplexityPolicy.MinLength"
    assert caught.value.description == "Password is too short"
    assert caught.value.grpc_code == 3


@pytest.mark.rule(LOCKOUT)
def test_lockout_defaults_never_lock() -> None:
    policy = LockoutPolicy()
    assert policy.max_password_attempts == 0
    assert policy.max_otp_attempts == 0
    assert policy.show_lockout_failure is True
    assert not any(locks_after_failure(policy, attempts) for attempts in range(0, 1000, 7))


@pytest.mark.rule(LOCKOUT + " (the failure that brings the count to max also locks)")
def test_failure_reaching_the_maximum_locks() -> None:
    policy = LockoutPolicy(max_password_attempts=3)
    assert [locks_after_failure(policy, attempts) for attempts in (1, 2, 3, 4)] == [False, False, True, True]


@pytest.mark.rule(LOCKOUT)
def test_maximum_of_one_locks_on_the_first_failure() -> None:
    assert locks_after_failure(LockoutPolicy(max_password_attempts=1), 1) is True


@pytest.mark.rule("spec/login.md §2 (login policy defaults)")
def test_login_policy_defaults_are_zitadels() -> None:
    policy = LoginPolicy()
    assert policy.password_check_lifetime == timedelta(hours=240)
    assert policy.external_login_check_lifetime == timedelta(hours=240)
    assert policy.mfa_init_skip_lifetime == timedelta(hours=720)
    assert policy.second_factor_check_lifetime == timedelta(hours=18)
    assert policy.multi_factor_check_lifetime == timedelta(hours=12)
    assert policy.allow_username_password is True
    assert policy.allow_register is True
    assert policy.allow_external_idp is True
    assert policy.force_mfa is False
    assert policy.hide_password_reset is False
    assert policy.ignore_unknown_usernames is False
    assert policy.allow_domain_discovery is True
