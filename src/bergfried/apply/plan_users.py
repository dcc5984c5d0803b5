"""Users of a declared organization, then their metadata (`plan_metadata`) and user grants
(`plan_grants`).

A user is created and changed with the management API's rules (`management.users`: password
policy, argon2id, ACTIVE with a password or a verified e-mail; `management.user_profile`: one
call each for profile, e-mail and phone, or the machine's data). Its password is an initial one,
read from the file, a file beside it (`passwordFile`) or the environment (`passwordEnv`) only when
the user is created.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bergfried.apply import plan_grants, plan_metadata
from bergfried.apply.actions import Action, Context, Kind, camel, diff
from bergfried.apply.current import OrgNow, UserNow
from bergfried.apply.schema import HumanSpec, OrgSpec, UserSpec
from bergfried.domain.metadata import Metadata
from bergfried.domain.users import HumanUser, MachineUser, Profile, User
from bergfried.errors import ConfigError
from bergfried.management import user_metadata, user_profile
from bergfried.management import users as user_commands


def password_of(spec: HumanSpec, at: str, base_dir: Path, environ: Mapping[str, str]) -> str:
    """The initial password ("" for none). An empty file or variable is an error, not "no password"."""
    if spec.password_file is not None:
        path = spec.password_file if spec.password_file.is_absolute() else base_dir / spec.password_file
        try:
            value = path.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(f"{at}.passwordFile: cannot read {path}: {exc.strerror}") from None
        where = f"{at}.passwordFile: {path} is empty"
    elif spec.password_env is not None:
        value = environ.get(spec.password_env, "")
        where = f"{at}.passwordEnv: the environment variable {spec.password_env} is not set or empty"
    else:
        return spec.password or ""
    if not value:
        raise ConfigError(where)
    return value


def _profile(spec: HumanSpec) -> Profile:
    p = spec.profile
    return Profile(first_name=p.first_name, last_name=p.last_name, nick_name=p.nick_name,
                   display_name=p.display_name, preferred_language=p.preferred_language, gender=p.gender)


def _create(org: OrgSpec, spec: UserSpec, at: str) -> Action:
    key = (org.name.strip().lower(), spec.user_name.strip().lower())

    async def create(ctx: Context) -> None:
        org_id = ctx.org_id(org.name)
        if spec.human is not None:
            human = spec.human
            new = user_commands.NewHuman(
                username=spec.user_name, profile=_profile(human), email=human.email.email,
                email_verified=human.email.is_email_verified, phone=human.phone.phone,
                phone_verified=human.phone.is_phone_verified,
                password=password_of(human, f"{at}.human", ctx.base_dir, ctx.environ),
                password_change_required=human.password_change_required)
            user: User = (await user_commands.add_human(ctx.tx, ctx.services, org_id, new))[0]
        else:
            machine = spec.machine
            assert machine is not None
            user, _ = await user_commands.add_machine(ctx.tx, org_id, spec.user_name, machine.name,
                                                      machine.description, machine.access_token_type)
        ctx.users[key] = user

    return Action(Kind.CREATE, "user", f"{org.name}/{spec.user_name}", at, create)


def _human_changes(spec: HumanSpec, now: HumanUser) -> list[tuple[str, dict[str, tuple[Any, Any]]]]:
    """(part, {field: (current, wanted)}) for the three calls that change a human: profile,
    e-mail, phone."""
    profile = _profile(spec)
    return [
        ("profile", {f"profile.{camel(f)}": (getattr(now.profile, f), getattr(profile, f)) for f in _PROFILE}),
        ("email", {"email.email": (now.email, spec.email.email),
                   "email.isEmailVerified": (now.is_email_verified, spec.email.is_email_verified)}),
        ("phone", {"phone.phone": (now.phone, spec.phone.phone),
                   "phone.isPhoneVerified": (now.is_phone_verified, spec.phone.is_phone_verified)}),
    ]


_PROFILE = ("first_name", "last_name", "nick_name", "display_name", "preferred_language", "gender")


async def _change_human(ctx: Context, part: str, spec: HumanSpec, user: HumanUser) -> None:
    if part == "profile":
        await user_profile.update_profile(ctx.tx, user.org_id, user.id, _profile(spec))
    elif part == "email":
        await user_profile.update_email(ctx.tx, user.org_id, user.id, spec.email.email, spec.email.is_email_verified)
    else:
        await user_profile.update_phone(ctx.tx, user.org_id, user.id, spec.phone.phone, spec.phone.is_phone_verified)


def _changes(org: OrgSpec, spec: UserSpec, now: UserNow, at: str) -> list[Action]:
    """The user's type is its identity here: a human declared where a machine exists is an error."""
    user, target = now.user, f"{org.name}/{spec.user_name}"
    actions: list[Action] = []
    if spec.human is not None and isinstance(user, HumanUser):
        human = spec.human
        for part, fields in _human_changes(human, user):
            changes = diff(fields)
            if changes:
                async def change(ctx: Context, part: str = part) -> None:
                    await _change_human(ctx, part, human, user)

                actions.append(Action(Kind.CHANGE, "user", target, f"{at}.human.{part}", change, changes))
    elif spec.machine is not None and isinstance(user, MachineUser):
        machine = spec.machine
        changes = diff({"name": (user.name, machine.name), "description": (user.description, machine.description),
                        "accessTokenType": (user.access_token_type, machine.access_token_type)})
        if changes:
            async def change_machine(ctx: Context) -> None:
                await user_profile.update_machine(ctx.tx, user.org_id, user.id, machine.name, machine.description,
                                                  machine.access_token_type)

            actions.append(Action(Kind.CHANGE, "user", target, f"{at}.machine", change_machine, changes))
    else:
        kind = "a machine" if isinstance(user, MachineUser) else "a human"
        raise ConfigError(f"{at}: user {spec.user_name!r} exists as {kind} user; apply cannot change its type")
    return actions


def _metadata(actions: list[Action], deletions: list[Action], org: OrgSpec, spec: UserSpec, at: str,
              current: Mapping[str, bytes], prune: bool) -> None:
    async def set_values(ctx: Context, entries: list[Metadata]) -> object:
        user = ctx.user(org.name, spec.user_name)
        return await user_metadata.set_metadata(ctx.tx, user.org_id, user.id, entries)

    async def remove_keys(ctx: Context, keys: list[str]) -> object:
        user = ctx.user(org.name, spec.user_name)
        return await user_metadata.remove_metadata(ctx.tx, user.org_id, user.id, keys)

    plan_metadata.plan(actions, deletions, f"{org.name}/{spec.user_name}", at, spec.metadata, current, prune,
                       set_values, remove_keys)


def plan(actions: list[Action], deletions: list[Action], org: OrgSpec, at: str, current: Mapping[str, OrgNow],
         roles_after: plan_grants.RolesAfter, prune: bool) -> None:
    org_now = current.get(org.name.strip().lower())
    for i, spec in enumerate(org.users):
        where = f"{at}.users[{i}]"
        now = org_now.users.get(spec.user_name.strip().lower()) if org_now else None
        actions.extend([_create(org, spec, where)] if now is None else _changes(org, spec, now, where))
        _metadata(actions, deletions, org, spec, where, now.metadata if now else {}, prune)
        plan_grants.user_grants(actions, deletions, org, spec, where, now, current, roles_after, prune)
