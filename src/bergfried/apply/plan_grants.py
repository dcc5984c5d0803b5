"""Project grants (a declared project shared with another declared organization) and user
grants (roles of a project of the user's organization, or of a project granted to it), through
`management.grants`, the functions the API calls.

`RolesAfter` holds the role keys each project, and each project grant, will have once the plan
has run, so a grant naming a missing role is an error at plan time, with its path.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from bergfried.apply.actions import Action, Context, Kind, diff
from bergfried.apply.current import OrgNow, ProjectNow, UserNow
from bergfried.apply.schema import OrgSpec, ProjectGrantSpec, ProjectSpec, UserGrantSpec, UserSpec
from bergfried.domain.grants import ProjectGrant, UserGrant
from bergfried.errors import ConfigError
from bergfried.management import grants as grant_commands

# (org key, project name) → the project's roles; (org key, project name, granted org key) → the grant's
RolesAfter = MutableMapping[tuple[str, ...], set[str]]


def key(name: str) -> str:
    return name.strip().lower()


def seed_roles(roles_after: RolesAfter, current: Mapping[str, OrgNow]) -> None:
    """What exists: every project of a declared organization, and its grants to declared ones."""
    names: dict[str, str] = {now.org.id: org_key for org_key, now in current.items()}
    for org_key, now in current.items():
        for name, project in now.projects.items():
            roles_after[(org_key, name)] = set(project.roles)
            for granted_id, grant in project.grants.items():
                if granted_id in names:
                    roles_after[(org_key, name, names[granted_id])] = set(grant.role_keys)


def _checked(roles: set[str] | None, keys: tuple[str, ...], at: str, missing: str, project: str) -> None:
    if roles is None:
        raise ConfigError(missing)
    unknown = [k for k in keys if k not in roles]
    if unknown:
        raise ConfigError(f"{at}.roleKeys: {project} has no role {unknown[0]!r}")


def _project_grant(org: OrgSpec, project: ProjectSpec, grant: ProjectGrantSpec, at: str, now: ProjectGrant | None,
                   roles_after: RolesAfter) -> Action | None:
    target = f"{org.name}/{project.name} to {grant.granted_org}"
    _checked(roles_after.get((key(org.name), project.name)), grant.role_keys, at, "", f"project {project.name!r}")
    keys = list(grant.role_keys)

    async def create(ctx: Context) -> None:
        found = ctx.project(org.name, project.name)
        await grant_commands.add_project_grant(ctx.tx, found.org_id, found.id, ctx.org_id(grant.granted_org), keys)

    async def change(ctx: Context) -> None:
        assert now is not None
        await grant_commands.change_project_grant(ctx.tx, now.org_id, now.project_id, now.id, keys)

    if now is None:
        return Action(Kind.CREATE, "project grant", target, at, create)
    if set(now.role_keys) == set(keys):
        return None
    return Action(Kind.CHANGE, "project grant", target, at, change,
                  diff({"roleKeys": (now.role_keys, grant.role_keys)}))


def _remove_project_grant(org: OrgSpec, project: ProjectSpec, grant: ProjectGrant, at: str, shown: str) -> Action:
    async def remove(ctx: Context) -> None:
        await grant_commands.remove_project_grant(ctx.tx, grant.org_id, grant.project_id, grant.id)

    return Action(Kind.DELETE, "project grant", f"{org.name}/{project.name} to {shown}", at, remove)


def project_grants(actions: list[Action], deletions: list[Action], org: OrgSpec, project: ProjectSpec, at: str,
                   now: ProjectNow | None, current: Mapping[str, OrgNow], declared: set[str],
                   roles_after: RolesAfter, prune: bool) -> None:
    """`declared`: the keys of the organizations the file declares; a project is granted only to those."""
    existing = now.grants if now else {}
    ids: dict[str, str] = {org_key: org_now.org.id for org_key, org_now in current.items()}
    wanted: set[str] = set()
    for i, grant in enumerate(project.grants or ()):
        where, granted = f"{at}.grants[{i}]", key(grant.granted_org)
        if granted not in declared:
            raise ConfigError(f"{where}.grantedOrg: organization {grant.granted_org!r} is not declared in this file")
        found = existing.get(ids[granted]) if granted in ids else None
        wanted.add(ids.get(granted, ""))
        action = _project_grant(org, project, grant, where, found, roles_after)
        if action is not None:
            actions.append(action)
        roles_after[(key(org.name), project.name, granted)] = set(grant.role_keys)
    if prune and project.grants is not None:
        names: dict[str, str] = {org_id: org_key for org_key, org_id in ids.items()}
        for granted_id, found_grant in sorted(existing.items()):
            if granted_id not in wanted:
                granted_key = names.get(granted_id, "")
                roles_after.pop((key(org.name), project.name, granted_key), None)
                shown = current[granted_key].org.name if granted_key else granted_id
                deletions.append(_remove_project_grant(org, project, found_grant, f"{at}.grants", shown))


def _project_id(current: Mapping[str, OrgNow], org_key: str, project: str) -> str | None:
    found = current[org_key].projects.get(project) if org_key in current else None
    return found.project.id if found else None


def _user_grant(org: OrgSpec, spec: UserSpec, grant: UserGrantSpec, at: str, now: UserGrant | None,
                roles_after: RolesAfter) -> Action | None:
    own, owner = key(org.name), key(grant.project_org or org.name)
    shown = grant.project if owner == own else f"{grant.project_org}/{grant.project}"
    if owner == own:
        roles = roles_after.get((own, grant.project))
        missing = f"{at}.project: no project {grant.project!r} in organization {org.name!r}"
    else:
        roles = roles_after.get((owner, grant.project, own))
        missing = (f"{at}.project: project {grant.project!r} of organization {grant.project_org!r} "
                   f"is not granted to {org.name!r}")
    _checked(roles, grant.role_keys, at, missing, f"project {shown!r}")
    target = f"{org.name}/{spec.user_name} on {shown}"
    keys = list(grant.role_keys)

    async def create(ctx: Context) -> None:
        user, project = ctx.user(org.name, spec.user_name), ctx.project(grant.project_org or org.name, grant.project)
        await grant_commands.add_user_grant(ctx.tx, ctx.org_id(org.name), user.id, project.id, keys)

    async def change(ctx: Context) -> None:
        assert now is not None
        await grant_commands.change_user_grant(ctx.tx, now.org_id, now.user_id, now.id, keys)

    if now is None:
        return Action(Kind.CREATE, "grant", target, at, create)
    if set(now.role_keys) == set(keys):
        return None
    return Action(Kind.CHANGE, "grant", target, at, change, diff({"roleKeys": (now.role_keys, grant.role_keys)}))


def user_grants(actions: list[Action], deletions: list[Action], org: OrgSpec, spec: UserSpec, at: str,
                now: UserNow | None, current: Mapping[str, OrgNow], roles_after: RolesAfter, prune: bool) -> None:
    existing = now.grants if now else {}
    wanted: set[str | None] = set()
    for i, grant in enumerate(spec.grants or ()):
        project_id = _project_id(current, key(grant.project_org or org.name), grant.project)
        wanted.add(project_id)
        action = _user_grant(org, spec, grant, f"{at}.grants[{i}]", existing.get(project_id or ""), roles_after)
        if action is not None:
            actions.append(action)
    if prune and spec.grants is not None:
        names: dict[str, tuple[str, str]] = {p.project.id: (org_key, name) for org_key, o in current.items()
                                             for name, p in o.projects.items()}
        for project_id, found in sorted(existing.items()):
            if project_id in wanted:
                continue

            async def remove(ctx: Context, found: UserGrant = found) -> None:
                await grant_commands.remove_user_grant(ctx.tx, found.org_id, found.user_id, found.id)

            owner, name = names.get(project_id, (key(org.name), project_id))
            shown = name if owner == key(org.name) else f"{current[owner].org.name}/{name}"
            deletions.append(Action(Kind.DELETE, "grant", f"{org.name}/{spec.user_name} on {shown}", f"{at}.grants",
                                    remove))
