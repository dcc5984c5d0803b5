"""Application keys: public keys of apps that authenticate with private_key_jwt (RFC 7523).
Only the public key is kept; the private key goes to the caller once, in ZITADEL's key file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.apps import ApiAuthMethodType, Application, AuthMethodType
from bergfried.domain.common import ObjectDetails
from bergfried.errors import NotFound, PreconditionFailed
from bergfried.store import tables as t
from bergfried.store._common import added, changed
from bergfried.store.credentials import NO_EXPIRY
from bergfried.store.tx import Tx

AK = t.application_keys


@dataclass(frozen=True, slots=True)
class AppKey:
    id: str
    app_id: str
    type: str
    expires_at: datetime


def _uses_private_key_jwt(app: Application) -> bool:
    if app.oidc is not None:
        return app.oidc.auth_method_type == AuthMethodType.PRIVATE_KEY_JWT
    return app.api_auth_method_type == ApiAuthMethodType.PRIVATE_KEY_JWT


async def add(tx: Tx, app: Application, public_key_pem: str,
              *, expires_at: datetime | None = None) -> tuple[AppKey, ObjectDetails]:
    if not _uses_private_key_jwt(app):
        raise PreconditionFailed("Errors.Project.App.AuthMethodNoPrivateKeyJWT",
                                 "Application does not use private key JWT authentication", error_id="COMMAND-Bd4sd")
    key = AppKey(id=tx.new_id(), app_id=app.id, type="KEY_TYPE_JSON", expires_at=expires_at or NO_EXPIRY)
    sequence = await tx.event("project", app.project_id, "project.application.key.added",
                              {"appId": app.id, "keyId": key.id}, resource_owner=app.org_id)
    await tx.conn.execute(AK.insert().values(id=key.id, app_id=app.id, type=key.type, public_key=public_key_pem,
                                             expires_at=key.expires_at, created_at=tx.now, changed_at=tx.now,
                                             sequence=sequence))
    return key, added(tx, sequence, app.org_id)


async def list_for_app(conn: AsyncConnection, app_id: str) -> list[AppKey]:
    rows = await conn.execute(sa.select(AK).where(AK.c.app_id == app_id).order_by(AK.c.id))
    return [AppKey(id=r.id, app_id=r.app_id, type=r.type, expires_at=r.expires_at) for r in rows]


async def public_key(conn: AsyncConnection, app_id: str, key_id: str, now: datetime) -> str | None:
    """The PEM of an unexpired key of the app, for verifying a client assertion."""
    return (await conn.execute(sa.select(AK.c.public_key).where(
        AK.c.id == key_id, AK.c.app_id == app_id, AK.c.expires_at > now))).scalar_one_or_none()


async def remove(tx: Tx, app: Application, key_id: str) -> ObjectDetails:
    result = await tx.conn.execute(AK.delete().where(AK.c.id == key_id, AK.c.app_id == app.id))
    if not result.rowcount:
        raise NotFound("Errors.Project.App.Key.NotFound", "Key not found", error_id="COMMAND-Sfr42")
    sequence = await tx.event("project", app.project_id, "project.application.key.removed",
                              {"appId": app.id, "keyId": key_id}, resource_owner=app.org_id)
    return changed(tx, sequence, app.org_id)


async def get_row(conn: AsyncConnection, app_id: str, key_id: str) -> Any:
    """One key of the app with its details (for GetAppKey), or None."""
    return (await conn.execute(sa.select(AK).where(AK.c.id == key_id, AK.c.app_id == app_id))).first()
