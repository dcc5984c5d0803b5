"""Applications of a declared project: create (with a one-time client secret where the
authentication method needs one), change the OIDC configuration, give a secret to an app that
needs one and has none, and with `--prune` remove the apps the file no longer lists."""

from __future__ import annotations

import dataclasses

from bergfried.apply.actions import Action, Context, Kind, NewSecret, camel, diff
from bergfried.apply.current import ProjectNow
from bergfried.apply.schema import AppSpec, OIDCSpec, OrgSpec, ProjectSpec
from bergfried.domain.apps import ApiAuthMethodType, AppKind, Application, OIDCConfig, needs_secret
from bergfried.errors import ConfigError
from bergfried.management import apps as app_commands


def oidc_config(spec: OIDCSpec, login_v2_base_uri: str | None = None) -> OIDCConfig:
    """Every field comes from the file (or its default); only the login v2 base URI, which the
    file cannot set yet, keeps the stored value."""
    values = {f.name: getattr(spec, f.name) for f in dataclasses.fields(OIDCConfig) if f.name in OIDCSpec.model_fields}
    return OIDCConfig(**values, login_v2_base_uri=login_v2_base_uri)


def _needs_secret(spec: AppSpec) -> bool:
    if spec.oidc is not None:
        return needs_secret(oidc_config(spec.oidc))
    return spec.api is not None and spec.api.auth_method_type == ApiAuthMethodType.BASIC


def _create(org: OrgSpec, project: ProjectSpec, spec: AppSpec, at: str) -> Action:
    target = f"{org.name}/{project.name}/{spec.name}"

    async def create(ctx: Context) -> None:
        found, hasher = ctx.project(org.name, project.name), ctx.services.hasher
        if spec.oidc is not None:
            added = await app_commands.add_oidc_app(ctx.tx, hasher, found, spec.name, oidc_config(spec.oidc))
        else:
            assert spec.api is not None
            added = await app_commands.add_api_app(ctx.tx, hasher, found, spec.name, spec.api.auth_method_type)
        if added.client_secret is not None:
            ctx.secrets.append(NewSecret(target, added.app.client_id, added.client_secret))

    return Action(Kind.CREATE, "application", target, at, create)


def _changes(spec: AppSpec, now: Application, at: str) -> tuple[str, ...]:
    kind = AppKind.OIDC if spec.oidc is not None else AppKind.API
    if now.kind != kind:
        raise ConfigError(f"{at}: application {spec.name!r} exists as an {now.kind.upper()} application; "
                          "apply cannot change its kind (remove it from the file and apply with --prune first)")
    if spec.api is not None:
        return diff({"authMethodType": (now.api_auth_method_type, spec.api.auth_method_type)})
    assert spec.oidc is not None
    assert now.oidc is not None
    wanted = oidc_config(spec.oidc, now.oidc.login_v2_base_uri)
    return diff({camel(f.name): (getattr(now.oidc, f.name), getattr(wanted, f.name))
                 for f in dataclasses.fields(OIDCConfig)})


def _existing(org: OrgSpec, project: ProjectSpec, spec: AppSpec, at: str, now: Application) -> list[Action]:
    target = f"{org.name}/{project.name}/{spec.name}"
    actions: list[Action] = []
    changes = _changes(spec, now, at)

    async def change(ctx: Context) -> None:
        if spec.oidc is not None:
            assert now.oidc is not None
            config = oidc_config(spec.oidc, now.oidc.login_v2_base_uri)
            await app_commands.change_oidc_config(ctx.tx, now.org_id, now.project_id, now.id, config)
        else:
            assert spec.api is not None
            await app_commands.change_api_config(ctx.tx, now.org_id, now.project_id, now.id,
                                                 spec.api.auth_method_type)

    async def give_secret(ctx: Context) -> None:
        secret, _ = await app_commands.regenerate_client_secret(ctx.tx, ctx.services.hasher, now.org_id,
                                                                now.project_id, now.id, now.kind)
        ctx.secrets.append(NewSecret(target, now.client_id, secret))

    if changes:
        actions.append(Action(Kind.CHANGE, "application", target, at, change, changes))
    if _needs_secret(spec) and not now.has_secret:
        actions.append(Action(Kind.CHANGE, "application", target, at, give_secret, ("new client secret",)))
    return actions


def _remove(org: OrgSpec, project: ProjectSpec, app: Application, at: str) -> Action:
    async def remove(ctx: Context) -> None:
        await app_commands.remove_app(ctx.tx, app.org_id, app.project_id, app.id)

    return Action(Kind.DELETE, "application", f"{org.name}/{project.name}/{app.name}", at, remove)


def plan(actions: list[Action], deletions: list[Action], org: OrgSpec, project: ProjectSpec, at: str,
         now: ProjectNow | None, prune: bool) -> None:
    current = now.apps if now else {}
    for i, spec in enumerate(project.applications or ()):
        where = f"{at}.applications[{i}]"
        existing = current.get(spec.name)
        actions.extend([_create(org, project, spec, where)] if existing is None
                       else _existing(org, project, spec, where, existing))
    if prune and project.applications is not None:
        declared = {a.name for a in project.applications}
        deletions.extend(_remove(org, project, app, f"{at}.applications")
                         for name, app in sorted(current.items()) if name not in declared)
