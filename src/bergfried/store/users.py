"""Human and machine users: creation, lookup by id and login name, state, password, secret."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.common import ObjectDetails
from bergfried.domain.ids import OrgId, UserId
from bergfried.domain.orgs import OrgState
from bergfried.domain.users import (
    AccessTokenType,
    Address,
    Gender,
    HumanUser,
    MachineUser,
    Profile,
    User,
    UserState,
    UserType,
    next_state,
    validate_email,
    validate_machine,
    validate_phone,
    validate_profile,
    validate_username,
)
from bergfried.errors import PreconditionFailed
from bergfried.store import fast
from bergfried.store import tables as t
from bergfried.store._common import added, changed, touch, unique
from bergfried.store.tx import Tx

AGGREGATE = "user"
_STATE_EVENTS = {"deactivate": "user.deactivated", "reactivate": "user.reactivated",
                 "lock": "user.locked", "unlock": "user.unlocked"}
_TAKEN = ("Errors.User.Username.AlreadyExists", "Username already taken", "COMMAND-CvgwH")


def not_found() -> PreconditionFailed:
    """ZITADEL answers an unknown user on commands with FAILED_PRECONDITION (400), not 404."""
    return PreconditionFailed("Errors.User.NotFound", "User could not be found", error_id="COMMAND-uXHNj")


def from_row(row: Any) -> User:
    """A user from any row that carries the `users` columns (joins included)."""
    return _user(row)


def _user(row: Any) -> User:
    if row.type == UserType.MACHINE:
        return MachineUser(
            id=UserId(row.id), org_id=OrgId(row.org_id), username=row.username, state=UserState(row.state),
            name=row.machine_name, description=row.machine_description,
            access_token_type=AccessTokenType(row.access_token_type), has_secret=row.secret_hash is not None,
        )
    return HumanUser(
        id=UserId(row.id), org_id=OrgId(row.org_id), username=row.username, state=UserState(row.state),
        profile=Profile(
            first_name=row.first_name, last_name=row.last_name, nick_name=row.nick_name,
            display_name=row.display_name, preferred_language=row.preferred_language, gender=Gender(row.gender),
        ),
        email=row.email, is_email_verified=row.is_email_verified, phone=row.phone,
        is_phone_verified=row.is_phone_verified, address=Address(**(row.address or {})),
        password_hash=row.password_hash, password_change_required=row.password_change_required,
        password_changed_at=row.password_changed_at, failed_password_attempts=row.failed_password_attempts,
    )


async def create_human(
    tx: Tx,
    org_id: str,
    username: str,
    profile: Profile,
    email: str,
    *,
    email_verified: bool = False,
    phone: str = "",
    phone_verified: bool = False,
    address: Address | None = None,
    password_hash: str | None = None,
    password_change_required: bool = False,
    user_id: str | None = None,
) -> tuple[HumanUser, ObjectDetails]:
    """A human user; without a password and a verified e-mail it starts INITIAL, as in ZITADEL."""
    username = validate_username(username)
    profile = validate_profile(profile)
    email = validate_email(email)
    phone = validate_phone(phone)
    user_id = user_id or tx.new_id()
    state = UserState.ACTIVE if (password_hash or email_verified) else UserState.INITIAL
    sequence = await tx.event(AGGREGATE, user_id, "user.human.added",
                              {"userName": username, "email": email}, resource_owner=org_id)
    if email_verified:
        await tx.event(AGGREGATE, user_id, "user.human.email.verified", resource_owner=org_id)
    if password_hash:
        await tx.event(AGGREGATE, user_id, "user.human.password.changed", resource_owner=org_id)
    async with unique(tx, *_TAKEN):
        await tx.conn.execute(t.users.insert().values(
            id=user_id, org_id=org_id, type=UserType.HUMAN, username=username, username_lower=username.lower(),
            state=state, first_name=profile.first_name, last_name=profile.last_name, nick_name=profile.nick_name,
            display_name=profile.display_name, preferred_language=profile.preferred_language, gender=profile.gender,
            email=email, email_lower=email.lower(), is_email_verified=email_verified, phone=phone,
            is_phone_verified=phone_verified, address=asdict(address) if address else None,
            password_hash=password_hash, password_change_required=password_change_required,
            password_changed_at=tx.now if password_hash else None,
            created_at=tx.now, changed_at=tx.now, sequence=sequence,
        ))
    user = HumanUser(
        id=UserId(user_id), org_id=OrgId(org_id), username=username, state=state, profile=profile, email=email,
        is_email_verified=email_verified, phone=phone, is_phone_verified=phone_verified,
        address=address or Address(), password_hash=password_hash, password_change_required=password_change_required,
        password_changed_at=tx.now if password_hash else None,
    )
    return user, added(tx, sequence, org_id)


async def create_machine(
    tx: Tx,
    org_id: str,
    username: str,
    name: str,
    *,
    description: str = "",
    access_token_type: AccessTokenType = AccessTokenType.BEARER,
    user_id: str | None = None,
) -> tuple[MachineUser, ObjectDetails]:
    validate_machine(username, name, description)
    username = username.strip()
    user_id = user_id or tx.new_id()
    sequence = await tx.event(AGGREGATE, user_id, "user.machine.added", {"userName": username, "name": name},
                              resource_owner=org_id)
    async with unique(tx, *_TAKEN):
        await tx.conn.execute(t.users.insert().values(
            id=user_id, org_id=org_id, type=UserType.MACHINE, username=username, username_lower=username.lower(),
            state=UserState.ACTIVE, machine_name=name, machine_description=description,
            access_token_type=access_token_type, created_at=tx.now, changed_at=tx.now, sequence=sequence,
        ))
    user = MachineUser(id=UserId(user_id), org_id=OrgId(org_id), username=username, state=UserState.ACTIVE,
                       name=name, description=description, access_token_type=access_token_type)
    return user, added(tx, sequence, org_id)


async def find(conn: AsyncConnection, user_id: str) -> User | None:
    row = (await conn.execute(sa.select(t.users).where(t.users.c.id == user_id))).first()
    return _user(row) if row is not None and row.state != UserState.DELETED else None


async def get(conn: AsyncConnection, user_id: str) -> User:
    user = await find(conn, user_id)
    if user is None:
        raise not_found()
    return user


async def find_by_login_name(conn: AsyncConnection, login_name: str, *, must_be_domain: bool) -> User | None:
    """Resolve a typed login name: `username@verified-org-domain` (or the bare user name when the
    domain policy allows it), then a unique e-mail address (spec/login.md §3). One indexed query
    per attempt. Users of a removed organization are gone with it (ZITADEL removes them too)."""
    row = await _row_by_login_name(conn, login_name, must_be_domain=must_be_domain)
    return _user(row) if row is not None else None


_LIVE = sa.select(t.users).join(t.orgs, t.orgs.c.id == t.users.c.org_id).where(
    t.orgs.c.state != OrgState.REMOVED, t.users.c.state != UserState.DELETED)
# Built once (issue 10 §3): the three ways a login name can name a user.
_BY_DOMAIN_LOGIN_NAME = _LIVE.join(t.org_domains, t.org_domains.c.org_id == t.users.c.org_id).where(
    t.users.c.username_lower == sa.bindparam("username"), t.org_domains.c.domain == sa.bindparam("domain"),
    t.org_domains.c.is_verified.is_(True))
_BY_USERNAME = _LIVE.where(t.users.c.username_lower == sa.bindparam("username"))
_BY_EMAIL = _LIVE.where(t.users.c.email_lower == sa.bindparam("email"), t.users.c.type == UserType.HUMAN).limit(2)


async def _row_by_login_name(conn: AsyncConnection, login_name: str, *, must_be_domain: bool) -> Any | None:
    text = login_name.strip().lower()
    if must_be_domain and "@" in text:
        username, _, domain = text.rpartition("@")
        row = await fast.first(conn, _BY_DOMAIN_LOGIN_NAME, {"username": username, "domain": domain})
        if row is not None:
            return row
    if not must_be_domain:
        row = await fast.first(conn, _BY_USERNAME, {"username": text})
        if row is not None:
            return row
    rows = (await conn.execute(_BY_EMAIL, {"email": text})).all()
    return rows[0] if len(rows) == 1 else None


async def change_state(tx: Tx, user: User, change: str) -> ObjectDetails:
    """`deactivate`, `reactivate`, `lock` or `unlock`, checked against the current state."""
    state = next_state(user.state, change)
    sequence = await tx.event(AGGREGATE, user.id, _STATE_EVENTS[change], resource_owner=user.org_id)
    values: dict[str, Any] = {"state": state}
    if change == "unlock":
        values["failed_password_attempts"] = 0
    await touch(tx, t.users, t.users.c.id == user.id, sequence, **values)
    return changed(tx, sequence, user.org_id)


async def remove(tx: Tx, user: User) -> ObjectDetails:
    """Mark the user removed and free its user name; its grants, memberships, metadata and
    credentials go with it."""
    sequence = await tx.event(AGGREGATE, user.id, "user.removed", resource_owner=user.org_id)
    await touch(tx, t.users, t.users.c.id == user.id, sequence, state=UserState.DELETED,
                username_lower="removed:" + user.id, email_lower="", password_hash=None, secret_hash=None)
    for table in (t.user_grants, t.members, t.user_metadata, t.personal_access_tokens, t.machine_keys):
        await tx.conn.execute(table.delete().where(table.c.user_id == user.id))
    return changed(tx, sequence, user.org_id)


async def set_password(tx: Tx, user: HumanUser, password_hash: str, *, change_required: bool = False) -> ObjectDetails:
    sequence = await tx.event(AGGREGATE, user.id, "user.human.password.changed", resource_owner=user.org_id)
    state = UserState.ACTIVE if user.state == UserState.INITIAL else user.state
    await touch(tx, t.users, t.users.c.id == user.id, sequence, password_hash=password_hash, state=state,
                password_change_required=change_required, password_changed_at=tx.now, failed_password_attempts=0)
    return changed(tx, sequence, user.org_id)


async def record_password_check(tx: Tx, user: HumanUser, *, succeeded: bool, max_attempts: int) -> int:
    """Count a password check; the failure that reaches `max_attempts` locks the user (lockout
    policy). The counter moves with one conditional UPDATE, so parallel failures are all counted.
    Returns the failed attempts after this check.

    The UPDATE comes first: it holds the user's row until commit, so the events of parallel
    checks get their sequences in the order the checks were applied, and `user.locked` follows
    exactly the failure that reached the maximum."""
    if succeeded:
        await tx.conn.execute(t.users.update().where(t.users.c.id == user.id).values(failed_password_attempts=0))
        await tx.event(AGGREGATE, user.id, "user.human.password.check.succeeded", resource_owner=user.org_id)
        return 0
    row = (await tx.conn.execute(
        t.users.update().where(t.users.c.id == user.id)
        .values(failed_password_attempts=t.users.c.failed_password_attempts + 1)
        .returning(t.users.c.failed_password_attempts, t.users.c.state)
    )).first()
    sequence = await tx.event(AGGREGATE, user.id, "user.human.password.check.failed", resource_owner=user.org_id)
    attempts = int(row.failed_password_attempts) if row else 0
    # The row's state is read after every earlier commit, so only the one check that still finds
    # the user active locks it and writes `user.locked`.
    if max_attempts > 0 and attempts >= max_attempts and row is not None and row.state == UserState.ACTIVE:
        lock_sequence = await tx.event(AGGREGATE, user.id, "user.locked", resource_owner=user.org_id)
        await tx.conn.execute(t.users.update().where(t.users.c.id == user.id)
                              .values(state=UserState.LOCKED, changed_at=tx.now, sequence=lock_sequence))
    else:
        await tx.conn.execute(t.users.update().where(t.users.c.id == user.id).values(sequence=sequence))
    return attempts


async def set_machine_secret(tx: Tx, user: MachineUser, secret_hash: str | None) -> ObjectDetails:
    event = "user.machine.secret.set" if secret_hash else "user.machine.secret.removed"
    sequence = await tx.event(AGGREGATE, user.id, event, resource_owner=user.org_id)
    await touch(tx, t.users, t.users.c.id == user.id, sequence, secret_hash=secret_hash)
    return changed(tx, sequence, user.org_id)


async def machine_secret_hash(conn: AsyncConnection, user_id: str) -> str | None:
    return (await conn.execute(sa.select(t.users.c.secret_hash).where(t.users.c.id == user_id))).scalar_one_or_none()


async def list_in_org(conn: AsyncConnection, org_id: str, *, limit: int = 1000, offset: int = 0) -> list[User]:
    rows = await conn.execute(
        sa.select(t.users).where(t.users.c.org_id == org_id, t.users.c.state != UserState.DELETED)
        .order_by(t.users.c.id).limit(limit).offset(offset)
    )
    return [_user(row) for row in rows]


async def details(conn: AsyncConnection, user_id: str) -> tuple[datetime, datetime, int]:
    row = (await conn.execute(sa.select(t.users.c.created_at, t.users.c.changed_at, t.users.c.sequence)
                              .where(t.users.c.id == user_id))).one()
    return row.created_at, row.changed_at, int(row.sequence)


async def change(tx: Tx, user: User, event_type: str, payload: dict[str, Any], **values: Any) -> ObjectDetails:
    """One change of a user's columns with its event (profile, e-mail, phone, user name, machine)."""
    sequence = await tx.event(AGGREGATE, user.id, event_type, payload, resource_owner=user.org_id)
    if "username" in values:
        values["username_lower"] = values["username"].lower()
    if "email" in values:
        values["email_lower"] = values["email"].lower()
    async with unique(tx, *_TAKEN):
        await touch(tx, t.users, t.users.c.id == user.id, sequence, **values)
    return changed(tx, sequence, user.org_id)
