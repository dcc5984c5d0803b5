"""Users of a declared organization, their metadata and their user grants.

A user is created with the management API's rules (`management.users`: password policy,
argon2id, ACTIVE with a password or a verified e-mail). Its password is an initial one, read
from the file, a file beside it (`passwordFile`) or the environment (`passwordEnv`) only when the
user is created. Metadata values are UTF-8 text. Grants are direct grants on projects of the
user's own organization.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bergfried.apply.actions import Action, Context, Kind, diff
from bergfried.apply.current import OrgNow, UserNow
from bergfried.apply.schema import HumanSpec, MachineSpec, OrgSpec, UserGrantSpec, UserSpec
from bergfried.domain.grants import UserGrant
from bergfried.domain.metadata import Metadata
from bergfried.domain.users import HumanUser, MachineUser, Profile
from bergfried.errors import ConfigError
from bergfried.management import user_metadata
from bergfried.management import users as user_commands
from bergfried.store import grants

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
            user: Any = (await user_commands.add_human(ctx.tx, ctx.services, org_id, new))[0]
        else:
            machine = spec.machine
            assert machine is not None
            user, _ = await user_commands.add_machine(ctx.tx, org_id, spec.user_name, machine.name,
                                                      machine.description, machine.access_token_type)
        ctx.users[key] = user

    return Action(Kind.CREATE, "user", f"{org.name}/{spec.user_name}", at, create)


def _human_changes(spec: HumanSpec, now: HumanUser) -> dict[str, tuple[Any, Any]]:
    profile = _profile(spec)
    fields = {f"profile.{name}": (getattr(now.profile, attr), getattr(profile, attr)) for name, attr in (
        ("firstName", "first_name"), ("lastName", "last_name"), ("nickName", "nick_name"),
        ("displayName", "display_name"), ("preferredLanguage", "preferred_language"), ("gender", "gender"))}
    fields.update({"email.email": (now.email, spec.email.email),
                   "email.isEmailVerified": (now.is_email_verified, spec.email.is_email_verified),
                   "phone.phone": (now.phone, spec.phone.phone),
                   "phone.isPhoneVerified": (now.is_phone_verified, spec.phone.is_phone_verified)})
    return fields


def _machine_changes(spec: MachineSpec, now: MachineUser) -> dict[str, tuple[Any, Any]]:
    return {"name": (now.name, spec.name), "description": (now.description, spec.description),
            "accessTokenType": (now.access_token_type, spec.access_token_type)}


def _check_unchanged(spec: UserSpec, now: UserNow, at: str) -> None:
    """Changing an existing user's profile, e-mail or phone waits for the management functions
    that own those rules (verification codes, login names); until then apply says so."""
    user = now.user
    if spec.human is not None and isinstance(user, HumanUser):
        changes, part = diff(_human_changes(spec.human, user)), "human"
    elif spec.machine is not None and isinstance(user, MachineUser):
        changes, part = diff(_machine_changes(spec.machine, user)), "machine"
    else:
        kind = "a machine" if isinstance(user, MachineUser) else "a human"
        raise ConfigError(f"{at}: user {spec.user_name!r} exists as {kind} user; apply cannot change its type")
    if changes:
        raise ConfigError(f"{at}.{part}: apply cannot change an existing user yet ({'; '.join(changes)}); "
                          "change it through the management API")


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
        await grants.add_user_grant(ctx.tx, ctx.user(org.name, spec.user_name), ctx.project(org.name, grant.project),
                                    keys)

    async def change(ctx: Context) -> None:
        assert now is not None
        await grants.change_user_grant(ctx.tx, now, keys)

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
                await grants.remove_user_grant(ctx.tx, found)

            target = f"{org.name}/{spec.user_name} on {names.get(project_id, project_id)}"
            deletions.append(Action(Kind.DELETE, "grant", target, f"{at}.grants", remove))


def plan(actions: list[Action], deletions: list[Action], org: OrgSpec, at: str, org_now: OrgNow | None,
         roles_after: RolesAfter, prune: bool) -> None:
    for i, spec in enumerate(org.users):
        where = f"{at}.users[{i}]"
        now = org_now.users.get(spec.user_name.strip().lower()) if org_now else None
        if now is None:
            actions.append(_create(org, spec, where))
        else:
            _check_unchanged(spec, now, where)
        _metadata(actions, deletions, org, spec, where, now.metadata if now else {}, prune)
        _grants(actions, deletions, org, spec, where, now, org_now, roles_after, prune)
