"""The step decision as a table: prompt × sessions × hint → what the login does
(spec/login.md §2 steps 0, 1, 5 and §4), plus language negotiation and CSRF tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bergfried.crypto.masterkey import MasterKey
from bergfried.domain.auth_requests import AuthRequest
from bergfried.login.csrf import CsrfGuard
from bergfried.login.i18n import CATALOGS, Translator, negotiate
from bergfried.login.steps import Candidate, Kind, Preselected, next_step, password_counts

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
LIFETIME = timedelta(hours=240)


def request(*, prompt: tuple[str, ...] = (), max_age: int | None = None) -> AuthRequest:
    return AuthRequest(id="1", client_id="c", redirect_uri="https://app/cb", scopes=("openid",), response_type="code",
                       created_at=NOW - timedelta(seconds=10), expires_at=NOW + timedelta(minutes=30), prompt=prompt,
                       max_age=max_age)


def session(user: str, checked_ago: timedelta | None = timedelta(minutes=5)) -> Candidate:
    return Candidate(session_id="s" + user, user_id=user, login_name=user + "@acme", display_name=user,
                     password_checked_at=None if checked_ago is None else NOW - checked_ago)


ONE = (session("a"),)
TWO = (session("a"), session("b"))
STALE = (session("a", timedelta(hours=300)),)
UNCHECKED = (session("a", None),)

CASES = [
    # (case, prompt, sessions, preselected, expected kind, expected login name / session)
    ("no prompt, no session", (), (), None, Kind.LOGIN_NAME, ""),
    ("no prompt, one session: SSO", (), ONE, None, Kind.LINK, "sa"),
    ("no prompt, one stale session: its password", (), STALE, None, Kind.PASSWORD, "a@acme"),
    ("no prompt, one unchecked session: its password", (), UNCHECKED, None, Kind.PASSWORD, "a@acme"),
    ("no prompt, two sessions: choose", (), TWO, None, Kind.ACCOUNTS, ""),
    ("none, no session", ("none",), (), None, Kind.FAIL, ""),
    ("none, one session", ("none",), ONE, None, Kind.LINK, "sa"),
    ("none, one stale session", ("none",), STALE, None, Kind.FAIL, ""),
    ("none, two sessions", ("none",), TWO, None, Kind.FAIL, ""),
    ("none, hinted user with session", ("none",), TWO, Preselected("b", "b@acme"), Kind.LINK, "sb"),
    ("none, hinted user without session", ("none",), ONE, Preselected("b", "b@acme"), Kind.FAIL, ""),
    ("login, sessions: login name", ("login",), ONE, None, Kind.LOGIN_NAME, ""),
    ("login, hinted user: password", ("login",), ONE, Preselected("a", "a@acme"), Kind.PASSWORD, "a@acme"),
    ("consent: login name", ("consent",), ONE, None, Kind.LOGIN_NAME, ""),
    ("select_account, one session", ("select_account",), ONE, None, Kind.ACCOUNTS, ""),
    ("select_account, none", ("select_account",), (), None, Kind.LOGIN_NAME, ""),
    ("login select_account", ("login", "select_account"), ONE, None, Kind.ACCOUNTS, ""),
    ("create, no session: register", ("create",), (), None, Kind.REGISTER, ""),
    ("create, sessions: register", ("create",), ONE, None, Kind.REGISTER, ""),
    ("create select_account: register", ("create", "select_account"), ONE, None, Kind.REGISTER, ""),
    ("create, hinted user: password", ("create",), (), Preselected("a", "a@acme"), Kind.PASSWORD, "a@acme"),
    ("hint, own session: SSO", (), TWO, Preselected("b", "b@acme"), Kind.LINK, "sb"),
    ("hint, no own session: password", (), ONE, Preselected("b", "b@acme"), Kind.PASSWORD, "b@acme"),
]


@pytest.mark.rule("spec/login.md §4 prompt and hints decide the first step")
@pytest.mark.parametrize(("case", "prompt", "sessions", "preselected", "kind", "target"), CASES,
                         ids=[case[0] for case in CASES])
def test_next_step(case: str, prompt: tuple[str, ...], sessions: tuple[Candidate, ...],
                   preselected: Preselected | None, kind: Kind, target: str) -> None:
    step = next_step(request(prompt=prompt), sessions, preselected, now=NOW, lifetime=LIFETIME)
    assert step.kind == kind
    if kind == Kind.LINK:
        assert step.session is not None
        assert step.session.session_id == target
    if kind == Kind.PASSWORD:
        assert step.login_name == target
    if kind == Kind.ACCOUNTS:
        assert step.accounts == sessions
    if kind == Kind.FAIL:
        assert step.error == "interaction_required"


@pytest.mark.rule("spec/login.md §4 max_age: a check counts from created_at − max_age; prompt=login is max_age=0")
def test_password_counts_by_max_age_lifetime_and_prompt_login() -> None:
    created = NOW - timedelta(seconds=10)
    just_before = created - timedelta(seconds=1)
    assert password_counts(request(), just_before, now=NOW, lifetime=LIFETIME)
    assert not password_counts(request(max_age=0), just_before, now=NOW, lifetime=LIFETIME)
    assert password_counts(request(max_age=0), created, now=NOW, lifetime=LIFETIME)
    assert password_counts(request(max_age=1), just_before, now=NOW, lifetime=LIFETIME)
    assert not password_counts(request(prompt=("login",)), just_before, now=NOW, lifetime=LIFETIME)
    assert password_counts(request(prompt=("login",)), NOW, now=NOW, lifetime=LIFETIME)
    assert not password_counts(request(), NOW - LIFETIME, now=NOW, lifetime=LIFETIME)
    assert not password_counts(request(), None, now=NOW, lifetime=LIFETIME)


@pytest.mark.rule("RFC 9110 §12.5.4 Accept-Language; spec/login.md §4 ui_locales first")
@pytest.mark.parametrize(("ui_locales", "header", "lang"), [
    ((), None, "en"),
    (("de",), None, "de"),
    (("fr", "de-AT"), "en", "de"),
    (("en",), "de", "en"),
    ((), "de-CH, en;q=0.5", "de"),
    ((), "en;q=0.2, de;q=0.8", "de"),
    ((), "de;q=0, en;q=0.1", "en"),
    ((), "fr, *;q=0.1", "en"),
    ((), "garbage;;q=x, DE", "de"),
])
def test_language_negotiation(ui_locales: tuple[str, ...], header: str | None, lang: str) -> None:
    assert negotiate(ui_locales, header) == lang


def test_both_catalogs_have_the_same_keys_and_fill_values() -> None:
    assert set(CATALOGS["en"]) == set(CATALOGS["de"])
    assert Translator("de")("Password.Description", login_name="a@b") == "Geben Sie das Passwort für a@b ein."
    assert Translator("xx").lang == "en"


@pytest.mark.rule("OWASP CSRF: the token is bound to the user-agent cookie and the master key")
def test_csrf_token_is_bound_to_the_cookie_and_the_key() -> None:
    guard = CsrfGuard(MasterKey(b"k" * 32))
    other_key = CsrfGuard(MasterKey(b"j" * 32))
    token = guard.token("cookie-a")
    assert guard.valid("cookie-a", token)
    assert not guard.valid("cookie-b", token)
    assert not other_key.valid("cookie-a", token)
    assert not guard.valid(None, token)
    assert not guard.valid("cookie-a", "")
    assert not guard.valid("cookie-a", token[:-1])
    assert not guard.valid("cookie-a", "ü" + token[1:])
