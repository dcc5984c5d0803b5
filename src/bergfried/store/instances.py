"""The instance row: one per database."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.common import ObjectDetails
from bergfried.domain.ids import InstanceId, OrgId
from bergfried.domain.instance import Instance
from bergfried.store import tables as t
from bergfried.store.tx import Tx


def _instance(row: Any) -> Instance:
    settings = row.settings or {}
    return Instance(id=InstanceId(row.id), name=row.name, domain=row.domain, default_org_id=OrgId(row.default_org_id),
                    zitadel_project_id=settings.get("zitadel_project_id"))


async def get(conn: AsyncConnection) -> Instance | None:
    row = (await conn.execute(sa.select(t.instances))).first()
    return _instance(row) if row else None


async def create(tx: Tx, *, instance_id: str, name: str, domain: str, default_org_id: str) -> Instance | None:
    """Claim the single instance slot; None when another process already holds it."""
    try:
        async with tx.conn.begin_nested():
            sequence = await tx.event("instance", instance_id, "instance.added", {"name": name, "domain": domain},
                                      resource_owner=None)
            await tx.conn.execute(t.instances.insert().values(
                id=instance_id, name=name, domain=domain, default_org_id=default_org_id, settings={},
                created_at=tx.now, changed_at=tx.now, sequence=sequence,
            ))
    except IntegrityError:
        return None
    return Instance(id=InstanceId(instance_id), name=name, domain=domain, default_org_id=OrgId(default_org_id))


async def lock(tx: Tx) -> None:
    """Hold the instance row until the transaction ends, so that first-start steps which check
    and then create (signing key, machine user, PAT) run one process at a time. PostgreSQL takes
    a row lock; SQLite's write transactions (`BEGIN IMMEDIATE`) are serialised already."""
    await tx.conn.execute(sa.select(t.instances.c.id).with_for_update())


async def set_zitadel_project(tx: Tx, instance: Instance, project_id: str) -> Instance:
    """Record the id of the instance's "ZITADEL" project (the management API's audience)."""
    row = (await tx.conn.execute(sa.select(t.instances.c.settings).where(t.instances.c.id == instance.id))).one()
    settings = dict(row.settings or {})
    settings["zitadel_project_id"] = project_id
    sequence = await tx.event("instance", instance.id, "instance.zitadel.project.set", {"projectId": project_id},
                              resource_owner=None)
    await tx.conn.execute(t.instances.update().where(t.instances.c.id == instance.id).values(
        settings=settings, changed_at=tx.now, sequence=sequence))
    return Instance(id=instance.id, name=instance.name, domain=instance.domain,
                    default_org_id=instance.default_org_id, zitadel_project_id=project_id)


# --- instance settings kept in the settings JSON ---------------------------------------------
# ZITADEL's instance feature `oidcTokenExchange` (feature API v2) and the security setting
# `enableImpersonation` (admin API `/admin/v1/policies/security`); spec/token-exchange.md §1.

TOKEN_EXCHANGE_FEATURE = "oidcTokenExchange"


async def _settings(conn: AsyncConnection) -> dict[str, Any]:
    row = (await conn.execute(sa.select(t.instances.c.settings))).first()
    return dict(row.settings or {}) if row else {}


async def feature_enabled(conn: AsyncConnection, name: str) -> bool:
    return bool((await _settings(conn)).get("features", {}).get(name, False))


async def features(conn: AsyncConnection) -> dict[str, bool]:
    """The feature flags set on the instance (unset ones are absent)."""
    return {name: bool(value) for name, value in (await _settings(conn)).get("features", {}).items()}


async def impersonation_enabled(conn: AsyncConnection) -> bool:
    return bool((await _settings(conn)).get("security", {}).get("enableImpersonation", False))


async def _update(tx: Tx, section: str, values: dict[str, Any], event_type: str) -> ObjectDetails:
    row = (await tx.conn.execute(sa.select(t.instances.c.id, t.instances.c.settings,
                                           t.instances.c.created_at))).one()
    settings = dict(row.settings or {})
    settings[section] = {**settings.get(section, {}), **values}
    sequence = await tx.event("instance", row.id, event_type, values, resource_owner=None)
    await tx.conn.execute(t.instances.update().where(t.instances.c.id == row.id).values(
        settings=settings, changed_at=tx.now, sequence=sequence))
    return ObjectDetails(sequence=sequence, creation_date=row.created_at, change_date=tx.now, resource_owner=row.id)


async def set_features(tx: Tx, **flags: bool) -> ObjectDetails:
    """ZITADEL's `PUT /v2/features/instance`: only the flags given change."""
    return await _update(tx, "features", flags, "feature.instance.set")


async def set_security_policy(tx: Tx, *, enable_impersonation: bool, enable_iframe_embedding: bool = False,
                              allowed_origins: tuple[str, ...] = ()) -> ObjectDetails:
    """ZITADEL's `PUT /admin/v1/policies/security` (the whole policy is replaced)."""
    return await _update(tx, "security", {"enableImpersonation": enable_impersonation,
                                          "enableIframeEmbedding": enable_iframe_embedding,
                                          "allowedOrigins": list(allowed_origins)}, "instance.security.policy.set")


async def security_policy(conn: AsyncConnection) -> dict[str, Any]:
    """The security policy's fields in ZITADEL's JSON names (all off when never set)."""
    stored = (await _settings(conn)).get("security", {})
    return {"enableImpersonation": bool(stored.get("enableImpersonation", False)),
            "enableIframeEmbedding": bool(stored.get("enableIframeEmbedding", False)),
            "allowedOrigins": list(stored.get("allowedOrigins", []))}
