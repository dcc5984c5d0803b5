"""Actions v2 commands: targets and executions, with ZITADEL's rules (domain/targets.py) and
the conditions an execution may be set on (spec/actions.md §3.1).

A request or response condition must name a method or service the API serves (ZITADEL checks
the same against its gRPC registry); an event condition any event or group name; a function
condition one of `FUNCTIONS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.targets import (
    FUNCTIONS,
    NewTarget,
    Target,
    condition_invalid,
    function_id,
    validate_endpoint,
    validate_name,
    validate_timeout,
)
from bergfried.services import Services
from bergfried.store import targets as store
from bergfried.store.targets import Change

__all__ = ["FUNCTIONS", "call_condition", "create_target", "delete_target", "event_condition",
           "function_condition", "get_target", "methods", "services", "set_execution", "signing_keys",
           "update_target"]

# The gRPC service behind each v1 base path (the v2 services name themselves: `connect`).
_V1_SERVICES = {"/management/v1": "zitadel.management.v1.ManagementService",
                "/admin/v1": "zitadel.admin.v1.AdminService", "/auth/v1": "zitadel.auth.v1.AuthService"}


async def create_target(services: Services, editor: str, new: NewTarget) -> tuple[Target, str]:
    new.validated()
    async with services.store.write(editor) as tx:
        return await store.create(tx, store.sealer(services.master), new)


async def update_target(services: Services, editor: str, target_id: str,
                        change: Change) -> tuple[datetime, str | None]:
    if change.name is not None:
        validate_name(change.name)
    if change.endpoint is not None:
        validate_endpoint(change.endpoint)
    if change.timeout is not None:
        validate_timeout(change.timeout)
    async with services.store.write(editor) as tx:
        return await store.update(tx, store.sealer(services.master), target_id, change)


async def delete_target(services: Services, editor: str, target_id: str) -> datetime | None:
    async with services.store.write(editor) as tx:
        return tx.now if await store.delete(tx, target_id) else None


async def get_target(services: Services, target_id: str) -> tuple[Target, str]:
    async with services.store.read() as conn:
        target = await store.get(conn, target_id)
        keys = await signing_keys(conn, services, [target_id])
    return target, keys[target_id]


async def signing_keys(conn: AsyncConnection, services: Services, ids: Sequence[str]) -> dict[str, str]:
    return await store.signing_keys(conn, store.sealer(services.master), ids)


async def set_execution(services: Services, editor: str, condition: str, targets: Sequence[str]) -> datetime:
    async with services.store.write(editor) as tx:
        return await store.set_execution(tx, condition, targets)


def _registry() -> list[tuple[str, str]]:
    """(service, rpc) of every call the API serves."""
    from bergfried.api import registry

    out = []
    for endpoint in registry.load():
        service = endpoint.connect_service or next(
            (name for base, name in _V1_SERVICES.items() if endpoint.path.startswith(base + "/")), "")
        if service:
            out.append((service, endpoint.rpc))
    return out


def methods() -> tuple[str, ...]:
    return tuple(sorted({f"/{service}/{rpc}" for service, rpc in _registry()}))


def services() -> tuple[str, ...]:
    return tuple(sorted({service for service, _ in _registry()}))


def function_condition(name: str) -> str:
    if name not in FUNCTIONS:
        raise condition_invalid()
    return function_id(name)


def call_condition(kind: str, method: str, service: str, all_: bool) -> str:
    """`request/<service>/<method>`, `request/<service>` or `request` (the same for response)."""
    given = [v for v in (method, service, all_) if v]
    if len(given) != 1:
        raise condition_invalid()
    if all_:
        return kind
    if method:
        method = "/" + method.removeprefix("/")
        if method not in methods():
            raise condition_invalid()
        return f"{kind}{method}"
    if service not in services():
        raise condition_invalid()
    return f"{kind}/{service}"


def event_condition(event: str, group: str, all_: bool) -> str:
    given = [v for v in (event, group, all_) if v]
    if len(given) != 1 or any(c.isspace() for c in event + group):
        raise condition_invalid()
    if all_:
        return "event"
    return f"event/{event}" if event else f"event/{group}.*"
