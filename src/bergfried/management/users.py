"""Users through the management API (spec/management-api.md §5): add and import humans, add
machines, read one with its login names, search, change state, remove."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.crypto.passwords import hash_password
from bergfried.domain.common import ObjectDetails
from bergfried.domain.policies import PasswordComplexityPolicy, check_password
from bergfried.domain.users import AccessTokenType, HumanUser, MachineUser, Profile, User, login_names
from bergfried.domain.users import preferred_login_name as preferred_name
from bergfried.errors import InvalidArgument
from bergfried.management import policies
from bergfried.management.scope import user_for_command
from bergfried.oidc import backchannel
from bergfried.services import Services
from bergfried.store import orgs, users
from bergfried.store import tables as t
from bergfried.store.tx import Tx


@dataclass(frozen=True, slots=True)
class NewHuman:
    username: str
    profile: Profile
    email: str
    email_verified: bool = False
    phone: str = ""
    phone_verified: bool = False
    password: str = ""
    hashed_password: str = ""  # an encoded argon2 hash (ImportHumanUser `hashedPassword.value`)
    password_change_required: bool = False


def _password_hash(policy: PasswordComplexityPolicy, new: NewHuman) -> str | None:
    if new.password:
        check_password(policy, new.password)
        return hash_password(new.password)
    if new.hashed_password:
        if not new.hashed_password.startswith("$argon2"):
            raise InvalidArgument("Errors.User.Password.HashNotSupported", "Password hash algorithm not supported",
                                  error_id="COMMAND-HashN")
        return new.hashed_password
    return None


async def add_human(tx: Tx, services: Services, org_id: str, new: NewHuman) -> tuple[HumanUser, ObjectDetails]:
    """The user starts ACTIVE with a password or a verified e-mail, INITIAL otherwise (ZITADEL)."""
    policy, _ = await policies.current(tx.conn, services, PasswordComplexityPolicy)
    password_hash = _password_hash(policy, new)
    return await users.create_human(
        tx, org_id, new.username, new.profile, new.email, email_verified=new.email_verified, phone=new.phone,
        phone_verified=new.phone_verified, password_hash=password_hash,
        password_change_required=new.password_change_required,
    )


async def add_machine(tx: Tx, org_id: str, username: str, name: str, description: str,
                      access_token_type: AccessTokenType) -> tuple[MachineUser, ObjectDetails]:
    return await users.create_machine(tx, org_id, username, name, description=description,
                                      access_token_type=access_token_type)


async def change_state(tx: Tx, services: Services, org_id: str, user_id: str, change: str) -> ObjectDetails:
    """Deactivating or locking a user ends its sessions (back-channel logout, tokens revoked)."""
    user = await user_for_command(tx.conn, user_id, org_id)
    result = await users.change_state(tx, user, change)
    if change in ("deactivate", "lock"):
        await backchannel.end_user_sessions(services, tx, user.id)
    return result


async def remove(tx: Tx, services: Services, org_id: str, user_id: str) -> ObjectDetails:
    """Removing a user ends its sessions (back-channel logout, tokens revoked)."""
    user = await user_for_command(tx.conn, user_id, org_id)
    result = await users.remove(tx, user)
    await backchannel.end_user_sessions(services, tx, user.id)
    return result


@dataclass(frozen=True, slots=True)
class Names:
    """What login names a user of an organization has (domain policy + verified domains)."""

    must_be_domain: bool
    verified: list[str]
    primary: str

    def of(self, user: User) -> tuple[list[str], str]:
        return (login_names(user.username, self.verified, must_be_domain=self.must_be_domain),
                preferred_name(user.username, self.primary, must_be_domain=self.must_be_domain))


async def names(conn: AsyncConnection, services: Services, org_id: str) -> Names:
    org = await orgs.get(conn, org_id)
    return Names(must_be_domain=services.policies.domain.user_login_must_be_domain,
                 verified=await orgs.verified_domains(conn, org_id), primary=org.primary_domain)


def search(org_id: str) -> sa.Select[Any]:
    """Users of one organization (removed ones excluded), for the list call to filter and page."""
    return sa.select(t.users).where(t.users.c.org_id == org_id, t.users.c.state != "USER_STATE_DELETED")


def details_of_row(row: Any) -> tuple[int, datetime, datetime, str]:
    return int(row.sequence), row.created_at, row.changed_at, row.org_id


async def taken(conn: AsyncConnection, services: Services, org_id: str, username: str, email: str) -> bool:
    """A user name is unique per organization when login names carry the domain, else per
    instance (spec/management-api.md §5.1 login names); e-mail addresses per organization."""
    conditions = []
    if username:
        condition = t.users.c.username_lower == username.strip().lower()
        if services.policies.domain.user_login_must_be_domain:
            condition = sa.and_(condition, t.users.c.org_id == org_id)
        conditions.append(condition)
    if email:
        conditions.append(sa.and_(t.users.c.email_lower == email.strip().lower(), t.users.c.org_id == org_id))
    if not conditions:
        return False
    query = sa.select(t.users.c.id).where(sa.or_(*conditions), t.users.c.state != "USER_STATE_DELETED").limit(1)
    return (await conn.execute(query)).first() is not None
