"""The login's work against the store: the browser's sessions, hints, the login-name and
password checks, and opening a session. HTTP stays in `routes.py`; which step comes next is
decided in `steps.py`.

Password checks (spec/login.md §3, §5):
- An unknown user, a machine user, or a user that may not log in still costs one argon2
  verification (of a dummy hash), so the clock does not tell them apart from a wrong password.
- A wrong password and an unknown user give the same text at the password step: "Password is
  invalid", or with `ignoreUnknownUsernames` "Username or Password is invalid" (ZITADEL's
  `Errors.User.UsernameOrPassword.Invalid`).
- Failures are counted and lock the user at the policy's maximum (`record_password_check`);
  a locked user gets "User is locked", even with the right password.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.claims import scopes as sc
from bergfried.crypto.passwords import verify_password_async
from bergfried.domain.auth_requests import AuthRequest
from bergfried.domain.policies import LockoutPolicy, LoginPolicy
from bergfried.domain.sessions import Session
from bergfried.domain.users import HumanUser, MachineUser, User, UserState, ensure_can_log_in, preferred_login_name
from bergfried.errors import NotFound, PreconditionFailed
from bergfried.login.steps import Candidate, Preselected
from bergfried.management import policies
from bergfried.services import Services
from bergfried.store import orgs as org_store
from bergfried.store import sessions as session_store
from bergfried.store import users as user_store
from bergfried.store.tx import Tx

NOT_FOUND = "Errors.User.NotFound"
NOT_HUMAN = "Errors.User.NotHuman"


@dataclass(frozen=True, slots=True)
class Hint:
    """What `login_hint` / `id_token_hint` named: a user to preselect, or a reason it cannot log in."""

    login_name: str
    preselected: Preselected | None
    problem: str | None


@dataclass(frozen=True, slots=True)
class PasswordOutcome:
    user: HumanUser | None
    error: str | None


def _must_be_domain(services: Services) -> bool:
    return services.policies.domain.user_login_must_be_domain


def login_problem(user: User | None) -> str | None:
    """The message key that stops this user at the login-name step, or None."""
    if user is None:
        return NOT_FOUND
    if isinstance(user, MachineUser):
        return NOT_HUMAN
    try:
        ensure_can_log_in(user.state)
    except PreconditionFailed as exc:
        return exc.key
    return None


async def find_user(conn: AsyncConnection, services: Services, login_name: str) -> User | None:
    return await user_store.find_by_login_name(conn, login_name, must_be_domain=_must_be_domain(services))


async def find_user_for(conn: AsyncConnection, services: Services, request: AuthRequest,
                        login_name: str) -> User | None:
    """spec/login.md §3: an organization scope (`urn:zitadel:iam:org:id:{id}`,
    `urn:zitadel:iam:org:domain:primary:{domain}`) restricts the lookup to that organization, so a
    user of another one is "not found"; a bare user name gets that organization's primary domain."""
    org_id = next((s[len(sc.ORG_ID_PREFIX):] for s in request.scopes if s.startswith(sc.ORG_ID_PREFIX)), None)
    domain = next((s[len(sc.ORG_DOMAIN_PREFIX):] for s in request.scopes if s.startswith(sc.ORG_DOMAIN_PREFIX)), None)
    if org_id is None and domain is None:
        return await find_user(conn, services, login_name)
    try:
        org = await org_store.get(conn, org_id) if org_id else await org_store.get_by_domain(conn, domain or "")
    except NotFound:
        return None
    user = None
    if "@" not in login_name and _must_be_domain(services):
        user = await find_user(conn, services, f"{login_name}@{org.primary_domain}")
    user = user or await find_user(conn, services, login_name)
    return user if user is not None and user.org_id == org.id else None


async def candidates(conn: AsyncConnection, services: Services, agent_id: str | None,
                     now: datetime) -> tuple[Candidate, ...]:
    """The browser's sessions a user may pick: live, of active human users."""
    if agent_id is None:
        return ()
    must = _must_be_domain(services)
    found = await session_store.list_active(conn, agent_id, now=now)
    return tuple(
        Candidate(session_id=s.session.id, user_id=str(s.session.user_id), login_name=s.login_name(must_be_domain=must),
                  display_name=s.display_name, password_checked_at=s.session.password_checked_at)
        for s in found if s.is_human and s.user_state == UserState.ACTIVE
    )


async def hint(conn: AsyncConnection, services: Services, request: AuthRequest) -> Hint | None:
    """spec/login.md §4: the `sub` of a verified id_token_hint, else a login_hint that resolves
    like a typed login name; an unresolved hint is ignored."""
    user: User | None = None
    login_name = request.login_hint or ""
    if request.hint_user_id:
        user = await user_store.find(conn, request.hint_user_id)
        if user is not None:
            org = await org_store.get(conn, user.org_id)
            login_name = preferred_login_name(user.username, org.primary_domain,
                                              must_be_domain=_must_be_domain(services))
    if user is None and request.login_hint:
        user = await find_user_for(conn, services, request, request.login_hint)
    if user is None:
        return None
    problem = login_problem(user)
    return Hint(login_name, None if problem else Preselected(user.id, login_name), problem)


async def _verify(stored_hash: str | None, password: str) -> bool:
    """argon2 takes tens of milliseconds of CPU: off the event loop."""
    return await verify_password_async(stored_hash, password)


def invalid_password_key(login: LoginPolicy) -> str:
    if login.ignore_unknown_usernames:
        return "Errors.User.UsernameOrPassword.Invalid"
    return "Errors.User.Password.Invalid"


async def check_password(tx: Tx, services: Services, login_name: str, password: str,
                         request: AuthRequest | None = None) -> PasswordOutcome:
    login, _ = await policies.current(tx.conn, services, LoginPolicy)  # the admin API may change it
    invalid = invalid_password_key(login)
    user = await (find_user_for(tx.conn, services, request, login_name) if request is not None
                  else find_user(tx.conn, services, login_name))
    problem = login_problem(user)
    if problem is not None or not isinstance(user, HumanUser):
        await _verify(None, password)
        return PasswordOutcome(None, invalid if problem == NOT_FOUND else problem)
    succeeded = await _verify(user.password_hash, password)
    lockout, _ = await policies.current(tx.conn, services, LockoutPolicy)  # the admin API may change it
    await user_store.record_password_check(tx, user, succeeded=succeeded,
                                           max_attempts=lockout.max_password_attempts)
    if not succeeded:
        return PasswordOutcome(None, invalid)
    # A parallel failure may have locked the user after we read it; the UPDATE above waited for
    # that commit, so reading again now sees the lock.
    now_problem = login_problem(await user_store.find(tx.conn, user.id))
    return PasswordOutcome(None, now_problem) if now_problem else PasswordOutcome(user, None)


async def open_session(tx: Tx, agent_id: str, user: HumanUser) -> Session:
    """The browser's session of this user with the password just checked: the live one moved
    forward, or a new one (ZITADEL keeps one user session per browser and user)."""
    existing = await session_store.find_active(tx.conn, agent_id, user.id, now=tx.now)
    if existing is not None and await session_store.mark_password_checked(
            tx, existing.id, checked_at=tx.now, org_id=user.org_id):
        return replace(existing, password_checked_at=tx.now)
    return await session_store.create(tx, user.id, agent_id, org_id=user.org_id, password_checked_at=tx.now)
