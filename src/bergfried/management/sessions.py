"""The v2 session service's rules (spec/api-v2.md §3; ZITADEL `internal/command/session.go`,
`user_human_password.go`):

- the user check takes `userId` or `loginName` (resolved instance-wide as the login resolves it);
  an unknown user is NOT_FOUND, an inactive or locked one FAILED_PRECONDITION
  `Errors.User.NotActive`; a session never changes its user (`user change not possible`);
- the password check needs a user in the session (`Errors.User.UserIDMissing`); a wrong password
  is INVALID_ARGUMENT `Errors.User.Password.Invalid` and is counted towards the lockout policy
  even though the call fails (its transaction commits the count, nothing else); a locked user
  gets `Errors.User.Locked`;
- `lifetime` must be positive; without one the session does not expire;
- every successful create or set returns a new session token, 256 random bits of which only the
  keyed hash is stored; the previous token stops verifying.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.crypto.hashing import generate_secret
from bergfried.crypto.passwords import verify_password_async
from bergfried.domain.common import ObjectDetails
from bergfried.domain.policies import LockoutPolicy
from bergfried.domain.users import HumanUser, User, UserState
from bergfried.errors import DomainError, InvalidArgument, NotFound, PreconditionFailed
from bergfried.management import policies
from bergfried.ratelimit import TooManyRequests
from bergfried.services import Services
from bergfried.store import api_sessions
from bergfried.store import users as user_store
from bergfried.store.api_sessions import ApiSession, Change
from bergfried.store.tx import Tx


@dataclass(frozen=True, slots=True)
class Checks:
    user_id: str = ""
    login_name: str = ""
    password: str | None = None

    @property
    def names_user(self) -> bool:
        return bool(self.user_id or self.login_name)


@dataclass(frozen=True, slots=True)
class Outcome:
    session_id: str
    token: str
    details: ObjectDetails


def session_not_found() -> NotFound:
    return NotFound("Errors.Session.NotExisting", "Session does not exist", error_id="QUERY-SFeaa")


def token_matches(services: Services, session: ApiSession, token: str) -> bool:
    """Constant-time comparison of keyed hashes; an ended or expired session never matches."""
    if not token or session.token_hash is None or not session.live(services.store.clock()):
        return False
    return hmac.compare_digest(services.hasher.hash(token), session.token_hash)


def expiry(now: datetime, lifetime: timedelta | None, current: datetime | None) -> datetime | None:
    if lifetime is None:
        return current
    if lifetime <= timedelta(0):
        raise InvalidArgument("Errors.Session.PositiveLifetime", "The lifetime of the session must be positive",
                              error_id="SESSION-asEG4")
    return now + lifetime


async def _user(conn: AsyncConnection, services: Services, checks: Checks) -> User:
    if checks.user_id:
        user = await user_store.find(conn, checks.user_id)
    else:
        user = await user_store.find_by_login_name(
            conn, checks.login_name, must_be_domain=services.policies.domain.user_login_must_be_domain)
    if user is None or user.state in (UserState.DELETED, UserState.UNSPECIFIED):
        raise NotFound("Errors.User.NotFound", "User could not be found", error_id="QUERY-Dfbg2")
    if user.state in (UserState.INACTIVE, UserState.LOCKED):
        raise PreconditionFailed("Errors.User.NotActive", "User is not active", error_id="SESSION-Gj4ko")
    return user


async def _password(tx: Tx, services: Services, user_id: str | None, password: str) -> DomainError | None:
    """Check the password; a wrong one is counted and returned (not raised), so the count commits."""
    if user_id is None:
        raise PreconditionFailed("Errors.User.UserIDMissing", "User ID missing", error_id="COMMAND-Sfw3f")
    # Per user, not per IP: the caller is a login UI that speaks for every browser (docs/security.md).
    limiter, key = services.limits.password_per_name, f"user:{user_id}"
    wait = limiter.check(key)
    if wait is not None:
        raise TooManyRequests(wait)
    user = await user_store.find(tx.conn, user_id)
    if not isinstance(user, HumanUser) or user.password_hash is None:
        raise PreconditionFailed("Errors.User.Password.NotSet", "The user has no password", error_id="COMMAND-3n77z")
    if user.state == UserState.LOCKED:
        raise PreconditionFailed("Errors.User.Locked", "User is locked", error_id="COMMAND-JLK35")
    succeeded = await verify_password_async(user.password_hash, password)
    lockout, _ = await policies.current(tx.conn, services, LockoutPolicy)  # the admin API may change it
    await user_store.record_password_check(tx, user, succeeded=succeeded,
                                           max_attempts=lockout.max_password_attempts)
    if not succeeded:
        limiter.spend(key)
        return InvalidArgument("Errors.User.Password.Invalid", "Password is invalid", error_id="COMMAND-3M0fs")
    again = await user_store.find(tx.conn, user_id)  # a parallel failure may have locked it meanwhile
    if again is None or again.state == UserState.LOCKED:
        raise PreconditionFailed("Errors.User.Locked", "User is locked", error_id="COMMAND-JLK35")
    return None


def _metadata(current: dict[str, str], new: dict[str, bytes]) -> dict[str, str]:
    """Set keys, an empty value removes its key (`session.go` `SetSessionMetadata`)."""
    out = dict(current)
    for key, value in new.items():
        if value:
            out[key] = base64.b64encode(value).decode("ascii")
        else:
            out.pop(key, None)
    return out


Result = tuple[Change | None, str, DomainError | None]


async def _change(tx: Tx, services: Services, session: ApiSession | None, checks: Checks,
                  metadata: dict[str, bytes], lifetime: timedelta | None) -> Result:
    """The new state of a session after the checks, its new token, or the failure to report."""
    factors: dict[str, Any] = dict(session.factors) if session else {}
    user_id = session.user_id if session else None
    events: list[tuple[str, dict[str, Any]]] = [] if session else [("session.added", {})]
    now = tx.now.isoformat()
    if checks.names_user:
        user = await _user(tx.conn, services, checks)
        if user_id is not None and user.id != user_id:
            raise InvalidArgument("user change not possible", "user change not possible", error_id="SESSION-2n8fs")
        user_id = user.id
        factors["user"] = {"id": user.id, "orgId": user.org_id, "verifiedAt": now}
        events.append(("session.user.checked", {"userId": user.id}))
    password_checked_at = session.password_checked_at if session else None
    if checks.password is not None:
        failure = await _password(tx, services, user_id, checks.password)
        if failure is not None:
            return None, "", failure
        password_checked_at = tx.now
        factors["password"] = {"verifiedAt": now}
        events.append(("session.password.checked", {"checkedAt": now}))
    if metadata:
        events.append(("session.metadata.set", {"keys": sorted(metadata)}))
    expires_at = expiry(tx.now, lifetime, session.expires_at if session else None)
    if lifetime is not None:
        events.append(("session.lifetime.set", {"expiresAt": expires_at.isoformat() if expires_at else None}))
    token = generate_secret()
    events.append(("session.token.set", {}))
    return Change(token_hash=services.hasher.hash(token), user_id=user_id, factors=factors,
                  metadata=_metadata(session.metadata if session else {}, metadata), expires_at=expires_at,
                  password_checked_at=password_checked_at, events=events), token, None


async def create(services: Services, *, creator_id: str, owner: str, checks: Checks, metadata: dict[str, bytes],
                 user_agent: dict[str, Any] | None, lifetime: timedelta | None) -> Outcome:
    async with services.store.write(creator_id) as tx:
        change, token, failure = await _change(tx, services, None, checks, metadata, lifetime)
        if change is not None:
            session_id, details = await api_sessions.create(tx, change, creator_id=creator_id,
                                                            user_agent=user_agent, owner=owner)
    if failure is not None or change is None:
        raise failure or AssertionError("no change")
    return Outcome(session_id, token, details)


async def update(services: Services, session: ApiSession, *, editor: str, owner: str, checks: Checks,
                 metadata: dict[str, bytes], lifetime: timedelta | None) -> Outcome:
    async with services.store.write(editor) as tx:
        change, token, failure = await _change(tx, services, session, checks, metadata, lifetime)
        details = await api_sessions.update(tx, session.id, change, owner=owner) if change is not None else None
        if change is not None and details is None:
            raise session_not_found()
    if failure is not None or details is None:
        raise failure or session_not_found()
    return Outcome(session.id, token, details)
