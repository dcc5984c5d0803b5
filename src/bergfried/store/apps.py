"""Applications (OIDC and API) with their client secrets as keyed hashes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.apps import (
    ApiAuthMethodType,
    AppKind,
    Application,
    AppState,
    AppType,
    AuthMethodType,
    GrantType,
    OIDCConfig,
    ResponseType,
    TokenType,
    client_id_for,
    compliance,
    validate_app_name,
    validate_oidc_config,
)
from bergfried.domain.common import ObjectDetails
from bergfried.domain.ids import AppId, OrgId, ProjectId
from bergfried.domain.projects import Project, ProjectState
from bergfried.errors import NotFound
from bergfried.store import fast
from bergfried.store import tables as t
from bergfried.store._common import added, changed, touch
from bergfried.store.tx import Tx

A = t.applications


def not_found() -> NotFound:
    return NotFound("Errors.Project.App.NotFound", "App not found", error_id="APP-ii8fH")


def _oidc_values(config: OIDCConfig) -> dict[str, Any]:
    return {
        "redirect_uris": list(config.redirect_uris),
        "post_logout_redirect_uris": list(config.post_logout_redirect_uris),
        "response_types": [str(v) for v in config.response_types],
        "grant_types": [str(v) for v in config.grant_types],
        "app_type": config.app_type,
        "auth_method_type": config.auth_method_type,
        "access_token_type": config.access_token_type,
        "access_token_role_assertion": config.access_token_role_assertion,
        "id_token_role_assertion": config.id_token_role_assertion,
        "id_token_userinfo_assertion": config.id_token_userinfo_assertion,
        "clock_skew_ms": int(config.clock_skew / timedelta(milliseconds=1)),
        "dev_mode": config.dev_mode,
        "additional_origins": list(config.additional_origins),
        "skip_native_app_success_page": config.skip_native_app_success_page,
        "back_channel_logout_uri": config.back_channel_logout_uri,
        "login_v2_base_uri": config.login_v2_base_uri,
        "compliance_problems": list(compliance(config).problems),
    }


def _app(row: Any) -> Application:
    oidc = None
    api_method = None
    if row.kind == AppKind.OIDC:
        oidc = OIDCConfig(
            redirect_uris=tuple(row.redirect_uris), response_types=tuple(ResponseType(v) for v in row.response_types),
            grant_types=tuple(GrantType(v) for v in row.grant_types), app_type=AppType(row.app_type),
            auth_method_type=AuthMethodType(row.auth_method_type),
            post_logout_redirect_uris=tuple(row.post_logout_redirect_uris), dev_mode=row.dev_mode,
            access_token_type=TokenType(row.access_token_type),
            access_token_role_assertion=row.access_token_role_assertion,
            id_token_role_assertion=row.id_token_role_assertion,
            id_token_userinfo_assertion=row.id_token_userinfo_assertion,
            clock_skew=timedelta(milliseconds=row.clock_skew_ms), additional_origins=tuple(row.additional_origins),
            skip_native_app_success_page=row.skip_native_app_success_page,
            back_channel_logout_uri=row.back_channel_logout_uri, login_v2_base_uri=row.login_v2_base_uri,
        )
    else:
        api_method = ApiAuthMethodType(row.auth_method_type)
    return Application(
        id=AppId(row.id), project_id=ProjectId(row.project_id), org_id=OrgId(row.org_id), name=row.name,
        kind=AppKind(row.kind), client_id=row.client_id, state=AppState(row.state), oidc=oidc,
        api_auth_method_type=api_method, has_secret=row.client_secret_hash is not None,
    )


async def add_oidc(tx: Tx, project: Project, name: str, config: OIDCConfig,
                   *, secret_hash: str | None) -> tuple[Application, ObjectDetails]:
    """`secret_hash` is the keyed hash of the one-time secret, for BASIC and POST apps."""
    name = validate_app_name(name)
    config = validate_oidc_config(config)
    app_id = tx.new_id()
    client_id = client_id_for(app_id, project.name)
    sequence = await tx.event("project", project.id, "project.application.added",
                              {"appId": app_id, "name": name, "clientId": client_id}, resource_owner=project.org_id)
    await tx.conn.execute(A.insert().values(
        id=app_id, project_id=project.id, org_id=project.org_id, name=name, kind=AppKind.OIDC,
        state=AppState.ACTIVE, client_id=client_id, client_secret_hash=secret_hash,
        created_at=tx.now, changed_at=tx.now, sequence=sequence, **_oidc_values(config),
    ))
    app = Application(id=AppId(app_id), project_id=project.id, org_id=project.org_id, name=name, kind=AppKind.OIDC,
                      client_id=client_id, oidc=config, has_secret=secret_hash is not None)
    return app, added(tx, sequence, project.org_id)


async def add_api(tx: Tx, project: Project, name: str, method: ApiAuthMethodType,
                  *, secret_hash: str | None) -> tuple[Application, ObjectDetails]:
    name = validate_app_name(name)
    app_id = tx.new_id()
    client_id = client_id_for(app_id, project.name)
    sequence = await tx.event("project", project.id, "project.application.added",
                              {"appId": app_id, "name": name, "clientId": client_id}, resource_owner=project.org_id)
    await tx.conn.execute(A.insert().values(
        id=app_id, project_id=project.id, org_id=project.org_id, name=name, kind=AppKind.API, state=AppState.ACTIVE,
        client_id=client_id, client_secret_hash=secret_hash, auth_method_type=method, redirect_uris=[],
        post_logout_redirect_uris=[], response_types=[], grant_types=[], additional_origins=[],
        compliance_problems=[], created_at=tx.now, changed_at=tx.now, sequence=sequence,
    ))
    app = Application(id=AppId(app_id), project_id=project.id, org_id=project.org_id, name=name, kind=AppKind.API,
                      client_id=client_id, api_auth_method_type=method, has_secret=secret_hash is not None)
    return app, added(tx, sequence, project.org_id)


async def update_oidc_config(tx: Tx, app: Application, config: OIDCConfig) -> ObjectDetails:
    config = validate_oidc_config(config)
    sequence = await tx.event("project", app.project_id, "project.application.config.oidc.changed",
                              {"appId": app.id}, resource_owner=app.org_id)
    await touch(tx, A, A.c.id == app.id, sequence, **_oidc_values(config))
    return changed(tx, sequence, app.org_id)


async def set_secret(tx: Tx, app: Application, secret_hash: str) -> ObjectDetails:
    sequence = await tx.event("project", app.project_id, "project.application.config.secret.changed",
                              {"appId": app.id}, resource_owner=app.org_id)
    await touch(tx, A, A.c.id == app.id, sequence, client_secret_hash=secret_hash)
    return changed(tx, sequence, app.org_id)


async def find(conn: AsyncConnection, app_id: str) -> Application | None:
    row = (await conn.execute(sa.select(A).where(A.c.id == app_id))).first()
    return _app(row) if row else None


_BY_CLIENT_ID = (sa.select(A, t.projects.c.state.label("project_state"))
                 .join(t.projects, t.projects.c.id == A.c.project_id).where(A.c.client_id == sa.bindparam("client_id")))


async def find_by_client_id(conn: AsyncConnection, client_id: str) -> tuple[Application, str | None] | None:
    """The app and its secret hash by client id: one query on a unique index (the token
    endpoint's client authentication). An app of a project that is not active counts as inactive
    (ZITADEL's OIDC client query asks for an active app of an active project)."""
    row = await fast.first(conn, _BY_CLIENT_ID, {"client_id": client_id})
    return with_secret(row) if row is not None else None


def with_secret(row: Any) -> tuple[Application, str | None]:
    """The app and its secret hash from a row of `applications`' columns and `project_state`."""
    app = _app(row)
    if row.project_state != ProjectState.ACTIVE and app.state == AppState.ACTIVE:
        app = replace(app, state=AppState.INACTIVE)
    return app, row.client_secret_hash


async def list_for_project(conn: AsyncConnection, project_id: str) -> list[Application]:
    return [_app(r) for r in await conn.execute(sa.select(A).where(A.c.project_id == project_id).order_by(A.c.id))]


async def find_by_name(conn: AsyncConnection, project_id: str, name: str) -> Application | None:
    row = (await conn.execute(sa.select(A).where(A.c.project_id == project_id, A.c.name == name))).first()
    return _app(row) if row else None


async def remove(tx: Tx, app: Application) -> ObjectDetails:
    sequence = await tx.event("project", app.project_id, "project.application.removed", {"appId": app.id},
                              resource_owner=app.org_id)
    await tx.conn.execute(A.delete().where(A.c.id == app.id))
    return changed(tx, sequence, app.org_id)


async def change(tx: Tx, app: Application, event_type: str, payload: dict[str, Any] | None = None,
                 **values: Any) -> ObjectDetails:
    """Rename, deactivate/reactivate or change the API config: one event, one row update."""
    sequence = await tx.event("project", app.project_id, event_type, {"appId": app.id, **(payload or {})},
                              resource_owner=app.org_id)
    await touch(tx, A, A.c.id == app.id, sequence, **values)
    return changed(tx, sequence, app.org_id)


def from_row(row: Any) -> Application:
    return _app(row)


def search(project_id: str) -> sa.Select[Any]:
    """The apps of a project, for the API's list (rows carry their details)."""
    return sa.select(A).where(A.c.project_id == project_id)


async def get_row(conn: AsyncConnection, app_id: str) -> Any:
    return (await conn.execute(sa.select(A).where(A.c.id == app_id))).first()
