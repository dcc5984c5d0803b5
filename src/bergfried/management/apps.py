"""Applications of a project and their keys (spec/management-api.md §7), as ZITADEL's
`internal/command/project_application*.go` decide.

A client secret is generated only for OIDC apps with BASIC or POST and API apps with BASIC; it
is returned once and kept as a keyed hash. An application key's private half leaves only in the
key file ZITADEL emits (`{"type":"application","keyId","key","appId","clientId"}`).
`bergfried apply` calls `add_oidc_app` / `add_api_app` with a project it already holds."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.crypto.hashing import SecretHasher, generate_secret
from bergfried.domain.apps import (
    ApiAuthMethodType,
    AppKind,
    Application,
    AppState,
    Compliance,
    OIDCConfig,
    compliance,
    needs_secret,
    validate_app_name,
)
from bergfried.domain.common import ObjectDetails
from bergfried.domain.projects import Project
from bergfried.errors import AlreadyExists, InvalidArgument, NotFound, PreconditionFailed
from bergfried.management.projects import no_changes, project_of
from bergfried.store import app_keys, apps
from bergfried.store.credentials import NO_EXPIRY
from bergfried.store.tx import Tx


@dataclasses.dataclass(frozen=True, slots=True)
class AddedApp:
    app: Application
    details: ObjectDetails
    client_secret: str | None  # shown once
    compliance: Compliance


async def app_of(conn: AsyncConnection, org_id: str, project_id: str, app_id: str) -> Application:
    """An app of a project of `org_id`; otherwise NOT_FOUND (the project's or the app's)."""
    await project_of(conn, org_id, project_id)
    app = await apps.find(conn, app_id)
    if app is None or app.project_id != project_id:
        raise apps.not_found()
    return app


def _new_secret(hasher: SecretHasher, wanted: bool) -> tuple[str | None, str | None]:
    if not wanted:
        return None, None
    secret = generate_secret()
    return secret, hasher.hash(secret)


async def _name_is_free(conn: AsyncConnection, project_id: str, name: str) -> None:
    """An app name is unique within its project (ZITADEL's `NewAddApplicationUniqueConstraint`)."""
    if await apps.find_by_name(conn, project_id, name.strip()) is not None:
        raise AlreadyExists("Errors.Project.App.AlreadyExists", "Application already exists",
                            error_id="COMMAND-2n8vs")


async def add_oidc_app(tx: Tx, hasher: SecretHasher, project: Project, name: str, config: OIDCConfig) -> AddedApp:
    await _name_is_free(tx.conn, project.id, name)
    secret, secret_hash = _new_secret(hasher, needs_secret(config))
    app, details = await apps.add_oidc(tx, project, name, config, secret_hash=secret_hash)
    return AddedApp(app, details, secret, compliance(config))


async def add_api_app(tx: Tx, hasher: SecretHasher, project: Project, name: str,
                      method: ApiAuthMethodType) -> AddedApp:
    await _name_is_free(tx.conn, project.id, name)
    secret, secret_hash = _new_secret(hasher, method == ApiAuthMethodType.BASIC)
    app, details = await apps.add_api(tx, project, name, method, secret_hash=secret_hash)
    return AddedApp(app, details, secret, Compliance(none_compliant=False))


async def change_app_name(tx: Tx, org_id: str, project_id: str, app_id: str, name: str) -> ObjectDetails:
    app = await app_of(tx.conn, org_id, project_id, app_id)
    name = validate_app_name(name)
    if name == app.name:
        raise no_changes("COMMAND-2m8vx")
    await _name_is_free(tx.conn, app.project_id, name)
    return await apps.change(tx, app, "project.application.changed", {"name": name}, name=name)


def _oidc(app: Application) -> OIDCConfig:
    if app.oidc is None:
        raise PreconditionFailed("Errors.Project.App.IsNotOIDC", "Application is not OIDC", error_id="COMMAND-GBr34")
    return app.oidc


async def change_oidc_config(tx: Tx, org_id: str, project_id: str, app_id: str, config: OIDCConfig) -> ObjectDetails:
    app = await app_of(tx.conn, org_id, project_id, app_id)
    if _oidc(app) == config:
        raise no_changes("COMMAND-1m88i")
    return await apps.update_oidc_config(tx, app, config)


async def change_api_config(tx: Tx, org_id: str, project_id: str, app_id: str,
                            method: ApiAuthMethodType) -> ObjectDetails:
    app = await app_of(tx.conn, org_id, project_id, app_id)
    if app.kind != AppKind.API:
        raise PreconditionFailed("Errors.Project.App.IsNotAPI", "Application is not API", error_id="COMMAND-Gnwt3")
    if app.api_auth_method_type == method:
        raise no_changes("COMMAND-1m88i")
    return await apps.change(tx, app, "project.application.config.api.changed", {"authMethodType": str(method)},
                             auth_method_type=method)


async def regenerate_client_secret(tx: Tx, hasher: SecretHasher, org_id: str, project_id: str, app_id: str,
                                   kind: AppKind) -> tuple[str, ObjectDetails]:
    """A new secret for a BASIC/POST OIDC app or a BASIC API app; the old one stops working."""
    app = await app_of(tx.conn, org_id, project_id, app_id)
    if kind == AppKind.OIDC and not needs_secret(_oidc(app)):
        raise PreconditionFailed("Errors.Project.App.OIDCAuthMethodNoSecret",
                                 "Auth method of the application does not use a secret", error_id="COMMAND-Ghrh3")
    if kind == AppKind.API and app.api_auth_method_type != ApiAuthMethodType.BASIC:
        raise PreconditionFailed("Errors.Project.App.APIAuthMethodNoSecret",
                                 "Auth method of the application does not use a secret", error_id="COMMAND-HRc9f")
    secret = generate_secret()
    return secret, await apps.set_secret(tx, app, hasher.hash(secret))


# target state → (the state it must be in, event, error key, text, error id)
_STATE_CHANGES = {
    AppState.INACTIVE: (AppState.ACTIVE, "project.application.deactivated", "Errors.Project.App.NotActive",
                        "Application is not active", "COMMAND-dsh35"),
    AppState.ACTIVE: (AppState.INACTIVE, "project.application.reactivated", "Errors.Project.App.NotInactive",
                      "Application is not inactive", "COMMAND-1k9fs"),
}


async def _set_state(tx: Tx, org_id: str, project_id: str, app_id: str, target: AppState) -> ObjectDetails:
    app = await app_of(tx.conn, org_id, project_id, app_id)
    required, event, key, text, error_id = _STATE_CHANGES[target]
    if app.state != required:
        raise PreconditionFailed(key, text, error_id=error_id)
    return await apps.change(tx, app, event, state=target)


async def deactivate_app(tx: Tx, org_id: str, project_id: str, app_id: str) -> ObjectDetails:
    """An inactive app gets no tokens; deactivating one that is not active is FAILED_PRECONDITION."""
    return await _set_state(tx, org_id, project_id, app_id, AppState.INACTIVE)


async def reactivate_app(tx: Tx, org_id: str, project_id: str, app_id: str) -> ObjectDetails:
    return await _set_state(tx, org_id, project_id, app_id, AppState.ACTIVE)


async def remove_app(tx: Tx, org_id: str, project_id: str, app_id: str) -> ObjectDetails:
    """Its keys go with it; tokens already issued to it stay valid until they expire."""
    return await apps.remove(tx, await app_of(tx.conn, org_id, project_id, app_id))


# --- application keys --------------------------------------------------------------------------

def _expiry(tx: Tx, expiration: datetime | None) -> datetime:
    """No date → 9999-12-31T23:59:59Z; a date in the past is refused (`domain.EnsureValidExpirationDate`)."""
    if expiration is None:
        return NO_EXPIRY
    expiration = expiration if expiration.tzinfo else expiration.replace(tzinfo=UTC)
    if expiration < tx.now:
        raise InvalidArgument("Errors.AuthNKey.ExpireBeforeNow", "The expiration date is in the past",
                              error_id="AUTHN-dv3t5")
    return expiration


def key_file(key_id: str, private_pem: str, app: Application) -> bytes:
    """ZITADEL's application key file (`internal/domain/application_key.go` `Detail()`)."""
    return json.dumps({"type": "application", "keyId": key_id, "key": private_pem, "appId": app.id,
                       "clientId": app.client_id}).encode()


async def add_app_key(tx: Tx, org_id: str, project_id: str, app_id: str,
                      expiration: datetime | None) -> tuple[str, bytes, ObjectDetails]:
    """(key id, key file, details) for an app using private_key_jwt; otherwise FAILED_PRECONDITION
    `Errors.Project.App.AuthMethodNoPrivateKeyJWT`."""
    app = await app_of(tx.conn, org_id, project_id, app_id)
    expires = _expiry(tx, expiration)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    key, details = await app_keys.add(tx, app, public_pem, expires_at=expires)
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.NoEncryption()).decode()
    return key.id, key_file(key.id, private_pem, app), details


async def remove_app_key(tx: Tx, org_id: str, project_id: str, app_id: str, key_id: str) -> ObjectDetails:
    app = await app_of(tx.conn, org_id, project_id, app_id)
    return await app_keys.remove(tx, app, key_id)


def key_not_found() -> NotFound:
    return NotFound("Errors.Project.App.Key.NotFound", "Key not found", error_id="QUERY-3Ff3g")
