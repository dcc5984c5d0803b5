"""Desired (the file) against current (the database) → the list of actions, in an order where
each step finds what it needs: organizations, projects, roles, applications, users, metadata,
grants; deletions (`--prune` only) last.

Deletion is limited to what sits under a declared object and is listed in the file: roles,
applications and project grants of a declared project whose `roles:` / `applications:` /
`grants:` list is given, metadata keys of a declared organization or user, and the grants of a
declared user. Organizations, projects and users are never deleted by apply (the default
organization holds the instance's own project and admins).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bergfried.apply import plan_apps, plan_grants, plan_metadata, plan_users
from bergfried.apply.actions import Action, Context, Kind, camel, diff
from bergfried.apply.current import OrgNow, ProjectNow
from bergfried.apply.schema import OrgSpec, ProjectSpec, RoleSpec, World
from bergfried.domain.metadata import Metadata
from bergfried.domain.orgs import generated_org_domain
from bergfried.domain.projects import ProjectRole
from bergfried.management import projects as project_commands
from bergfried.store import metadata, orgs

_DELETION_ORDER = ("grant", "metadata", "project grant", "application", "role")


@dataclass(slots=True)
class Plan:
    actions: list[Action] = field(default_factory=list)
    deletions: list[Action] = field(default_factory=list)
    roles_after: plan_grants.RolesAfter = field(default_factory=dict)

    def all(self) -> list[Action]:
        """Deletions children first: grants and metadata, project grants, applications, roles."""
        return self.actions + sorted(self.deletions, key=lambda a: _DELETION_ORDER.index(a.what))


def _flags(spec: ProjectSpec) -> dict[str, Any]:
    return {"project_role_assertion": spec.project_role_assertion, "project_role_check": spec.project_role_check,
            "has_project_check": spec.has_project_check, "private_labeling_setting": spec.private_labeling_setting}


def _org(plan: Plan, spec: OrgSpec, at: str, now: OrgNow | None, prune: bool) -> None:
    key = spec.name.strip().lower()

    async def create(ctx: Context) -> None:
        org, _ = await orgs.create(ctx.tx, spec.name, generated_org_domain(spec.name, ctx.instance.domain))
        ctx.orgs[key] = org.id

    async def set_values(ctx: Context, entries: list[Metadata]) -> object:
        return await metadata.set_for(ctx.tx, metadata.of_org(ctx.org_id(spec.name)), entries)

    async def remove_keys(ctx: Context, keys: list[str]) -> object:
        return await metadata.remove_for(ctx.tx, metadata.of_org(ctx.org_id(spec.name)), keys)

    if now is None:
        plan.actions.append(Action(Kind.CREATE, "organization", spec.name, at, create))
    plan_metadata.plan(plan.actions, plan.deletions, spec.name, at, spec.metadata, now.metadata if now else {},
                       prune, set_values, remove_keys)


def _project(plan: Plan, org: OrgSpec, spec: ProjectSpec, at: str, now: ProjectNow | None, prune: bool) -> None:
    target = f"{org.name}/{spec.name}"

    async def create(ctx: Context) -> None:
        project, _ = await project_commands.add_project(ctx.tx, ctx.org_id(org.name), spec.name, **_flags(spec))
        ctx.projects[(org.name.strip().lower(), spec.name)] = project

    async def change(ctx: Context) -> None:
        project = ctx.project(org.name, spec.name)
        await project_commands.change_project(ctx.tx, project.org_id, project.id, spec.name, **_flags(spec))

    if now is None:
        plan.actions.append(Action(Kind.CREATE, "project", target, at, create))
    else:
        changes = diff({camel(name): (getattr(now.project, name), value) for name, value in _flags(spec).items()})
        if changes:
            plan.actions.append(Action(Kind.CHANGE, "project", target, at, change, changes))
    _roles(plan, org, spec, at, now, prune)
    plan_apps.plan(plan.actions, plan.deletions, org, spec, at, now, prune)


def _roles(plan: Plan, org: OrgSpec, project: ProjectSpec, at: str, now: ProjectNow | None, prune: bool) -> None:
    current = now.roles if now else {}
    after = set(current)
    for i, role in enumerate(project.roles or ()):
        after.add(role.key)
        _role(plan, org, project, role, f"{at}.roles[{i}]", current.get(role.key))
    if prune and project.roles is not None:
        declared = {r.key for r in project.roles}
        for key in sorted(set(current) - declared):
            after.discard(key)
            plan.deletions.append(_remove_role(org, project, key, f"{at}.roles"))
    plan.roles_after[(org.name.strip().lower(), project.name)] = after


def _role(plan: Plan, org: OrgSpec, project: ProjectSpec, role: RoleSpec, at: str, now: ProjectRole | None) -> None:
    target = f"{org.name}/{project.name}/{role.key}"

    async def create(ctx: Context) -> None:
        found = ctx.project(org.name, project.name)
        await project_commands.bulk_add_project_roles(ctx.tx, found.org_id, found.id,
                                                      [(role.key, role.display_name, role.group)])

    async def change(ctx: Context) -> None:
        found = ctx.project(org.name, project.name)
        await project_commands.change_project_role(ctx.tx, found.org_id, found.id, role.key, role.display_name,
                                                   role.group)

    if now is None:
        plan.actions.append(Action(Kind.CREATE, "role", target, at, create))
        return
    changes = diff({"displayName": (now.display_name, role.display_name), "group": (now.group, role.group)})
    if changes:
        plan.actions.append(Action(Kind.CHANGE, "role", target, at, change, changes))


def _remove_role(org: OrgSpec, project: ProjectSpec, key: str, at: str) -> Action:
    async def remove(ctx: Context) -> None:
        found = ctx.project(org.name, project.name)
        await project_commands.remove_project_role(ctx.tx, found.org_id, found.id, key)

    return Action(Kind.DELETE, "role", f"{org.name}/{project.name}/{key}", at, remove)


def plan(world: World, current: dict[str, OrgNow], *, prune: bool) -> list[Action]:
    result = Plan()
    plan_grants.seed_roles(result.roles_after, current)
    declared = {org.name.strip().lower() for org in world.orgs}
    for i, org in enumerate(world.orgs):
        now = current.get(org.name.strip().lower())
        _org(result, org, f"orgs[{i}]", now, prune)
        for j, project in enumerate(org.projects):
            _project(result, org, project, f"orgs[{i}].projects[{j}]", now.projects.get(project.name) if now else None,
                     prune)
    for i, org in enumerate(world.orgs):  # every organization exists by now
        now = current.get(org.name.strip().lower())
        for j, project in enumerate(org.projects):
            plan_grants.project_grants(result.actions, result.deletions, org, project, f"orgs[{i}].projects[{j}]",
                                       now.projects.get(project.name) if now else None, current, declared,
                                       result.roles_after, prune)
    for i, org in enumerate(world.orgs):
        plan_users.plan(result.actions, result.deletions, org, f"orgs[{i}]", current, result.roles_after, prune)
    return result.all()
