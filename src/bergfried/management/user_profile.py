"""Changes to a user's profile, e-mail, phone, user name, machine data and password
(spec/management-api.md §5.1), each one event; human-only calls refuse machine users."""

from __future__ import annotations

from dataclasses import asdict

from bergfried.crypto.passwords import hash_password
from bergfried.domain.common import ObjectDetails
from bergfried.domain.policies import PasswordComplexityPolicy, check_password
from bergfried.domain.users import (
    AccessTokenType,
    HumanUser,
    MachineUser,
    Profile,
    User,
    validate_email,
    validate_machine,
    validate_phone,
    validate_profile,
    validate_username,
)
from bergfried.errors import PreconditionFailed
from bergfried.management import policies
from bergfried.management.scope import user_for_command
from bergfried.services import Services
from bergfried.store import users
from bergfried.store.tx import Tx


def human(user: User) -> HumanUser:
    if not isinstance(user, HumanUser):
        raise PreconditionFailed("Errors.User.NotHuman", "User is not a human user", error_id="COMMAND-Df2f1")
    return user


def machine(user: User) -> MachineUser:
    if not isinstance(user, MachineUser):
        raise PreconditionFailed("Errors.User.NotMachine", "User is not a machine user", error_id="COMMAND-2n8vs")
    return user


async def update_profile(tx: Tx, org_id: str, user_id: str, profile: Profile) -> ObjectDetails:
    user = human(await user_for_command(tx.conn, user_id, org_id))
    profile = validate_profile(profile)
    return await users.change(tx, user, "user.human.profile.changed", {"firstName": profile.first_name},
                              **{k: v for k, v in asdict(profile).items()})


async def update_email(tx: Tx, org_id: str, user_id: str, email: str, verified: bool) -> ObjectDetails:
    user = human(await user_for_command(tx.conn, user_id, org_id))
    email = validate_email(email)
    event = "user.human.email.verified" if verified else "user.human.email.changed"
    return await users.change(tx, user, event, {"email": email}, email=email, is_email_verified=verified)


async def update_phone(tx: Tx, org_id: str, user_id: str, phone: str, verified: bool) -> ObjectDetails:
    user = human(await user_for_command(tx.conn, user_id, org_id))
    phone = validate_phone(phone)
    event = "user.human.phone.changed" if phone else "user.human.phone.removed"
    return await users.change(tx, user, event, {"phone": phone}, phone=phone,
                              is_phone_verified=verified and bool(phone))


async def update_username(tx: Tx, org_id: str, user_id: str, username: str) -> ObjectDetails:
    user = await user_for_command(tx.conn, user_id, org_id)
    username = validate_username(username)
    return await users.change(tx, user, "user.username.changed", {"userName": username}, username=username)


async def update_machine(tx: Tx, org_id: str, user_id: str, name: str, description: str,
                         access_token_type: AccessTokenType) -> ObjectDetails:
    user = machine(await user_for_command(tx.conn, user_id, org_id))
    validate_machine(user.username, name, description)
    return await users.change(tx, user, "user.machine.changed", {"name": name}, machine_name=name,
                              machine_description=description, access_token_type=access_token_type)


async def set_password(tx: Tx, services: Services, org_id: str, user_id: str, password: str,
                       change_required: bool) -> ObjectDetails:
    user = human(await user_for_command(tx.conn, user_id, org_id))
    policy, _ = await policies.current(tx.conn, services, PasswordComplexityPolicy)
    check_password(policy, password)
    return await users.set_password(tx, user, hash_password(password), change_required=change_required)
