"""Users of a declared organization, their metadata and their user grants.

A user is created and changed with the management API's rules (`management.users`: password
policy, argon2id, ACTIVE with a password or a verified e-mail; `management.user_profile`: one
call each for profile, e-mail and phone, or the machine's data). Its password is an initial one, read
from the file, a file beside it (`passwordFile`) or the environment (`passwordEnv`) only when the
user is created. Metadata values are UTF-8 text. Grants are direct grants on projects of the
user's own organization.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bergfried.apply.actions import Action, Context, Kind, camel, diff
from bergfried.apply.current import OrgNow, UserNow
from bergfried.apply.schema import HumanSpec, OrgSpec, UserGrantSpec, UserSpec
from bergfried.domain.grants import UserGrant
from bergfried.domain.metadata import Metadata
from bergfried.domain.users import HumanUser, MachineUser, Profile, User
from bergfried.errors import ConfigError
from bergfried.management import grants as grant_commands
from bergfried.management import user_metadata, user_profile
from bergfried.management import users as user_commands

RolesAfter = Mapping[tuple[str, str], set[str]]


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
    target = f"{org.name}/{spec.user_name}"
    for key, value in (spec.metadata or {}).items():
        wanted = value.encode()
        if current.get(key) == wanted:
            continue

        async def set_value(ctx: Context, key: str = key, wanted: bytes = wanted) -> None:
            user = ctx.user(org.name, spec.user_name)
            await user_metadata.set_metadata(ctx.tx, user.org_id, user.id, [Metadata(key, wanted)])

        kind = Kind.CHANGE if key in current else Kind.CREATE
        changes = diff({"value": (_text(current[key]), value)}) if key in current else ()
        actions.append(Action(kind, "metadata", f"{target} {key}", f"{at}.metadata.{key}", set_value, changes))
    if prune and spec.metadata is not None:
        for key in sorted(set(current) - set(spec.metadata)):
            async def remove(ctx: Context, key: str = key) -> None:
                user = ctx.user(org.name, spec.user_name)
                await user_metadata.remove_metadata(ctx.tx, user.org_id, user.id, [key])

            deletions.append(Action(Kind.DELETE, "metadata", f"{target} {key}", f"{at}.metadata", remove))


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


def _grant(org: OrgSpec, spec: UserSpec, grant: UserGrantSpec, at: str, now: UserGrant | None,
           roles_after: RolesAfter) -> Action | None:
    org_key = org.name.strip().lower()
    available = roles_after.get((org_key, grant.project))
    if available is None:
        raise ConfigError(f"{at}.project: no project {grant.project!r} in organization {org.name!r}")
    unknown = [key for key in grant.role_keys if key not in available]
    if unknown:
        raise ConfigError(f"{at}.roleKeys: project {grant.project!r} has no role {unknown[0]!r}")
    target = f"{org.name}/{spec.user_name} on {grant.project}"
    keys = list(grant.role_keys)

    async def create(ctx: Context) -> None:
        user, project = ctx.user(org.name, spec.user_name), ctx.project(org.name, grant.project)
        await grant_commands.add_user_grant(ctx.tx, project.org_id, user.id, project.id, keys)

    async def change(ctx: Context) -> None:
        assert now is not None
        await grant_commands.change_user_grant(ctx.tx, now.org_id, now.user_id, now.id, keys)

    if now is None:
        return Action(Kind.CREATE, "grant", target, at, create)
    if set(now.role_keys) == set(keys):
        return None
    return Action(Kind.CHANGE, "grant", target, at, change, diff({"roleKeys": (now.role_keys, grant.role_keys)}))


def _grants(actions: list[Action], deletions: list[Action], org: OrgSpec, spec: UserSpec, at: str,
            now: UserNow | None, org_now: OrgNow | None, roles_after: RolesAfter, prune: bool) -> None:
    current = now.grants if now else {}
    project_ids = {name: p.project.id for name, p in (org_now.projects if org_now else {}).items()}
    for i, grant in enumerate(spec.grants or ()):
        existing = current.get(project_ids[grant.project]) if grant.project in project_ids else None
        action = _grant(org, spec, grant, f"{at}.grants[{i}]", existing, roles_after)
        if action is not None:
            actions.append(action)
    if prune and spec.grants is not None:
        declared = {project_ids.get(g.project) for g in spec.grants}
        names: dict[str, str] = {pid: name for name, pid in project_ids.items()}
        for project_id, found in sorted(current.items()):
            if project_id in declared:
                continue

            async def remove(ctx: Context, found: UserGrant = found) -> None:
                await grant_commands.remove_user_grant(ctx.tx, found.org_id, found.user_id, found.id)

            target = f"{org.name}/{spec.user_name} on {names.get(project_id, project_id)}"
            deletions.append(Action(Kind.DELETE, "grant", target, f"{at}.grants", remove))


def plan(actions: list[Action], deletions: list[Action], org: OrgSpec, at: str, org_now: OrgNow | None,
         roles_after: RolesAfter, prune: bool) -> None:
    for i, spec in enumerate(org.users):
        where = f"{at}.users[{i}]"
        now = org_now.users.get(spec.user_name.strip().lower()) if org_now else None
        actions.extend([_create(org, spec, where)] if now is None else _changes(org, spec, now, where))
        _metadata(actions, deletions, org, spec, where, now.metadata if now else {}, prune)
        _grants(actions, deletions, org, spec, where, now, org_now, roles_after, prune)
