"""User sessions: one per user and browser (user agent), as ZITADEL's v1 login keeps them.

The hosted login creates a session when a user first proves a factor on a browser and reuses it
afterwards (a later password check moves `password_checked_at`), so one browser lists each of its
users once on the account selection page. `user_agent_id` is a keyed hash of the browser's cookie,
never the cookie itself: a copy of the database does not let anyone act as a browser.

Ending a session is one conditional UPDATE (`terminated_at IS NULL`), so two parallel logouts, or a
logout racing a user lock, end it once and write one `session.terminated` event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.ids import UserId
from bergfried.domain.sessions import Session
from bergfried.domain.users import Profile, UserState, UserType, effective_display_name, preferred_login_name
from bergfried.store import tables as t
from bergfried.store.tx import Tx

AGGREGATE = "session"
S = t.sessions


@dataclass(frozen=True, slots=True)
class AgentSession:
    """A session of a browser with what the account selection page shows of its user."""

    session: Session
    org_id: str
    username: str
    display_name: str
    primary_domain: str
    user_state: UserState
    is_human: bool

    def login_name(self, *, must_be_domain: bool) -> str:
        return preferred_login_name(self.username, self.primary_domain, must_be_domain=must_be_domain)


def _session(row: Any) -> Session:
    return Session(
        id=row.id, user_id=UserId(row.user_id) if row.user_id else None, user_agent_id=row.user_agent_id,
        created_at=row.created_at, password_checked_at=row.password_checked_at, terminated_at=row.terminated_at,
    )


def _live(now: datetime) -> Any:
    """Not ended and not expired (`expires_at` is set only for sessions of the v2 session API)."""
    return sa.and_(S.c.terminated_at.is_(None), sa.or_(S.c.expires_at.is_(None), S.c.expires_at > now))


async def create(tx: Tx, user_id: str, user_agent_id: str | None, *, org_id: str,
                 password_checked_at: datetime | None = None) -> Session:
    session_id = tx.new_id()
    sequence = await tx.event(AGGREGATE, session_id, "session.added", {"userId": user_id}, resource_owner=org_id)
    if password_checked_at is not None:
        sequence = await tx.event(AGGREGATE, session_id, "session.password.checked",
                                  {"checkedAt": password_checked_at.isoformat()}, resource_owner=org_id)
    await tx.conn.execute(S.insert().values(
        id=session_id, user_id=user_id, user_agent_id=user_agent_id, password_checked_at=password_checked_at,
        factors={}, metadata={}, created_at=tx.now, changed_at=tx.now, sequence=sequence,
    ))
    return Session(id=session_id, user_id=UserId(user_id), user_agent_id=user_agent_id, created_at=tx.now,
                   password_checked_at=password_checked_at)


async def mark_password_checked(tx: Tx, session_id: str, *, checked_at: datetime, org_id: str) -> bool:
    """Record a successful password check on a live session. False when the session has ended
    meanwhile (the caller then starts a new one)."""
    result = await tx.conn.execute(S.update().where(S.c.id == session_id, _live(tx.now)).values(
        password_checked_at=checked_at, changed_at=tx.now))
    if not result.rowcount:
        return False
    sequence = await tx.event(AGGREGATE, session_id, "session.password.checked",
                              {"checkedAt": checked_at.isoformat()}, resource_owner=org_id)
    await tx.conn.execute(S.update().where(S.c.id == session_id).values(sequence=sequence))
    return True


async def get(conn: AsyncConnection, session_id: str) -> Session | None:
    row = (await conn.execute(sa.select(S).where(S.c.id == session_id))).first()
    return _session(row) if row is not None else None


async def find_active(conn: AsyncConnection, user_agent_id: str, user_id: str, *, now: datetime) -> Session | None:
    """The live session of this user on this browser, the newest if there were ever several."""
    row = (await conn.execute(sa.select(S).where(
        S.c.user_agent_id == user_agent_id, S.c.user_id == user_id, _live(now),
    ).order_by(S.c.created_at.desc(), S.c.id.desc()).limit(1))).first()
    return _session(row) if row is not None else None


async def list_active(conn: AsyncConnection, user_agent_id: str, *, now: datetime) -> list[AgentSession]:
    """The browser's live sessions of users that still exist, the most recently used first, one
    per user. One indexed query (`user_agent_id`) joined to the user and its organization."""
    u, o = t.users, t.orgs
    query = (
        sa.select(S, u.c.org_id, u.c.username, u.c.type, u.c.state.label("user_state"), u.c.first_name,
                  u.c.last_name, u.c.display_name.label("user_display_name"), o.c.primary_domain)
        .join(u, u.c.id == S.c.user_id).join(o, o.c.id == u.c.org_id)
        .where(S.c.user_agent_id == user_agent_id, _live(now), u.c.state != UserState.DELETED)
        .order_by(S.c.changed_at.desc(), S.c.id.desc())
    )
    seen: set[str] = set()
    result: list[AgentSession] = []
    for row in await conn.execute(query):
        if row.user_id in seen:
            continue
        seen.add(row.user_id)
        profile = Profile(first_name=row.first_name, last_name=row.last_name, display_name=row.user_display_name)
        result.append(AgentSession(
            session=_session(row), org_id=row.org_id, username=row.username,
            display_name=effective_display_name(profile), primary_domain=row.primary_domain,
            user_state=UserState(row.user_state), is_human=row.type == UserType.HUMAN,
        ))
    return result


async def _org_of(tx: Tx, user_id: str | None) -> str | None:
    if user_id is None:
        return None
    org_id: str | None = (await tx.conn.execute(
        sa.select(t.users.c.org_id).where(t.users.c.id == user_id))).scalar_one_or_none()
    return org_id


async def _ended(tx: Tx, session_id: str, org_id: str | None) -> None:
    sequence = await tx.event(AGGREGATE, session_id, "session.terminated", resource_owner=org_id)
    await tx.conn.execute(S.update().where(S.c.id == session_id).values(sequence=sequence))


async def terminate(tx: Tx, session_id: str) -> bool:
    """End one session (logout). True only for the call that ended it."""
    row = (await tx.conn.execute(
        S.update().where(S.c.id == session_id, S.c.terminated_at.is_(None))
        .values(terminated_at=tx.now, changed_at=tx.now).returning(S.c.user_id)
    )).first()
    if row is None:
        return False
    await _ended(tx, session_id, await _org_of(tx, row.user_id))
    return True


async def terminate_for_user(tx: Tx, user_id: str) -> list[str]:
    """End every live session of a user (lock, deactivation, removal); returns the ended ids, so
    the caller can send back-channel logouts for exactly those."""
    rows = (await tx.conn.execute(
        S.update().where(S.c.user_id == user_id, S.c.terminated_at.is_(None))
        .values(terminated_at=tx.now, changed_at=tx.now).returning(S.c.id)
    )).all()
    ended = sorted(str(row.id) for row in rows)
    org_id = await _org_of(tx, user_id) if ended else None
    for session_id in ended:
        await _ended(tx, session_id, org_id)
    return ended
