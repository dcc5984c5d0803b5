"""Which step the login shows next, decided from the auth request and the browser's sessions
(spec/login.md §2 steps 0, 1 and 5; §4 `prompt`, `max_age`, `login_hint`, `id_token_hint`).

Pure: no I/O, time passed in. The handlers load the inputs, call `next_step`, and act on the
answer: render a page, link a session to the request, or fail the request.

- A preselected user (a resolved `login_hint`, or the `sub` of a verified `id_token_hint`) skips
  user selection: its session on this browser is used if its password check still counts, else
  the password page is shown.
- `prompt=none` never shows a page: a usable session (the preselected user's, or the only one on
  the browser) is linked, anything else fails with `interaction_required`.
- No prompt: no session → login-name page; one → SSO (or its password page); several → account
  selection. `select_account` lists the sessions (login-name page when there are none);
  `create` shows the registration page; `login` and `consent` show the login-name page.
- A password check counts within the policy's `password_check_lifetime` and, with `max_age`,
  only if made at or after `created_at − max_age`; `prompt=login` is `max_age=0` (zitadel/oidc
  `ValidateAuthReqPrompt`), so a check made during this very login still counts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from bergfried.domain.auth_requests import AuthRequest

NO_SESSION = "Unfortunately, the user may be not logged in and/or additional interaction is required."


class Kind(enum.StrEnum):
    LOGIN_NAME = "login_name"
    PASSWORD = "password"
    ACCOUNTS = "accounts"
    REGISTER = "register"
    LINK = "link"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A live session on this browser of an active human user."""

    session_id: str
    user_id: str
    login_name: str
    display_name: str
    password_checked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Preselected:
    user_id: str
    login_name: str


@dataclass(frozen=True, slots=True)
class Step:
    kind: Kind
    login_name: str = ""
    session: Candidate | None = None
    accounts: tuple[Candidate, ...] = ()
    error: str = ""
    description: str = ""


def password_counts(request: AuthRequest, checked_at: datetime | None, *, now: datetime,
                    lifetime: timedelta) -> bool:
    if checked_at is None or checked_at <= now - lifetime:
        return False
    max_age = 0 if "login" in request.prompt else request.max_age
    return max_age is None or checked_at >= request.created_at - timedelta(seconds=max_age)


def for_user(request: AuthRequest, user_id: str, login_name: str, candidates: tuple[Candidate, ...], *,
             now: datetime, lifetime: timedelta) -> Step:
    """A user is chosen (typed, hinted or picked): link its session if the password check still
    counts, otherwise ask for the password (or fail, under `prompt=none`)."""
    own = next((c for c in candidates if c.user_id == user_id), None)
    if own is not None and password_counts(request, own.password_checked_at, now=now, lifetime=lifetime):
        return Step(Kind.LINK, session=own)
    if "none" in request.prompt:
        return Step(Kind.FAIL, error="interaction_required", description=NO_SESSION)
    return Step(Kind.PASSWORD, login_name=login_name)


def next_step(request: AuthRequest, candidates: tuple[Candidate, ...], preselected: Preselected | None, *,
              now: datetime, lifetime: timedelta) -> Step:
    prompt = request.prompt
    if preselected is not None:
        return for_user(request, preselected.user_id, preselected.login_name, candidates, now=now, lifetime=lifetime)
    if "none" in prompt:
        if len(candidates) == 1:
            only = candidates[0]
            return for_user(request, only.user_id, only.login_name, candidates, now=now, lifetime=lifetime)
        return Step(Kind.FAIL, error="interaction_required", description=NO_SESSION)
    if "create" in prompt:  # spec/login.md §4: the registration page, checked first (zitadel nextStepsUser)
        return Step(Kind.REGISTER)
    if "select_account" in prompt:
        return Step(Kind.ACCOUNTS, accounts=candidates) if candidates else Step(Kind.LOGIN_NAME)
    if prompt:  # login, consent: the user names itself again
        return Step(Kind.LOGIN_NAME)
    if len(candidates) == 1:
        only = candidates[0]
        return for_user(request, only.user_id, only.login_name, candidates, now=now, lifetime=lifetime)
    return Step(Kind.ACCOUNTS, accounts=candidates) if candidates else Step(Kind.LOGIN_NAME)
