"""The instance's login, lockout and password complexity policies: the settings' defaults unless
the admin API changed them (`policies` rows, scope = the instance)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.common import ObjectDetails
from bergfried.domain.policies import LockoutPolicy, LoginPolicy, PasswordComplexityPolicy
from bergfried.services import Services
from bergfried.store import instances
from bergfried.store import policies as store
from bergfried.store.tx import Tx

Policy = TypeVar("Policy", PasswordComplexityPolicy, LockoutPolicy, LoginPolicy)
KINDS: dict[type[Any], str] = {PasswordComplexityPolicy: "password_complexity", LockoutPolicy: "lockout",
                               LoginPolicy: "login"}


def _defaults(services: Services, kind: type[Policy]) -> Policy:
    chosen: Any = {PasswordComplexityPolicy: services.policies.password, LockoutPolicy: services.policies.lockout,
                   LoginPolicy: services.policies.login}[kind]
    return chosen  # type: ignore[no-any-return]


def _to_json(policy: Any) -> dict[str, Any]:
    return {k: (v.total_seconds() if isinstance(v, timedelta) else v) for k, v in dataclasses.asdict(policy).items()}


def _from_json(kind: type[Policy], base: Policy, config: dict[str, Any]) -> Policy:
    values: dict[str, Any] = {}
    for field in dataclasses.fields(kind):
        if field.name in config:
            current = getattr(base, field.name)
            value = config[field.name]
            values[field.name] = timedelta(seconds=value) if isinstance(current, timedelta) else value
    return dataclasses.replace(base, **values)


async def current(conn: AsyncConnection, services: Services,
                  kind: type[Policy]) -> tuple[Policy, ObjectDetails | None]:
    """The policy in force and, when the admin API set it, its details (else it is the default)."""
    instance = await instances.get(conn)
    base = _defaults(services, kind)
    found = await store.get(conn, instance.id, KINDS[kind]) if instance else None
    if found is None:
        return base, None
    config, details = found
    return _from_json(kind, base, config), details


async def replace(tx: Tx, policy: Policy) -> ObjectDetails:
    instance = await instances.get(tx.conn)
    assert instance is not None
    return await store.put(tx, instance.id, KINDS[type(policy)], _to_json(policy), aggregate="instance")
