"""Actions v2 targets and executions (spec/actions.md §3): one row a target, one row an execution
id with its ordered target ids.

A target's signing key is shown once (at create and at rotation) and kept only sealed with the
master key, bound to the target id, so a copied blob does not open on another target. Targets
and executions belong to the instance: events carry no resource owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.crypto.aead import DecryptionError, Sealer
from bergfried.crypto.masterkey import MasterKey
from bergfried.domain.targets import Execution, NewTarget, Target, TargetType, new_signing_key
from bergfried.errors import NotFound
from bergfried.store import tables as t
from bergfried.store._common import unique
from bergfried.store.tx import Tx

T = t.targets
E = t.executions


def sealer(master: MasterKey) -> Sealer:
    """The AEAD for target signing keys: its own key derived from the master key."""
    return Sealer(master, "action-target-signing-keys")


def not_found() -> NotFound:
    return NotFound("Errors.Target.NotFound", "Errors.Target.NotFound", error_id="QUERY-xj14f2cccn")


def _target(row: Any) -> Target:
    return Target(id=row.id, name=row.name, type=TargetType(row.target_type), endpoint=row.endpoint,
                  timeout=timedelta(milliseconds=row.timeout_ms), interrupt_on_error=bool(row.interrupt_on_error),
                  created_at=row.created_at, changed_at=row.changed_at, sequence=int(row.sequence))


def _execution(row: Any) -> Execution:
    return Execution(condition=row.condition, targets=tuple(row.targets), created_at=row.created_at,
                     changed_at=row.changed_at)


def _already_exists() -> tuple[str, str, str]:
    return "Errors.Target.AlreadyExists", "Errors.Target.AlreadyExists", "COMMAND-xj14f2cccn"


@dataclass(frozen=True, slots=True)
class Change:
    """The fields an update names; None leaves a field as it is."""

    name: str | None = None
    type: TargetType | None = None
    interrupt_on_error: bool | None = None
    endpoint: str | None = None
    timeout: timedelta | None = None
    rotate_key: bool = False


async def create(tx: Tx, sealer: Sealer, new: NewTarget) -> tuple[Target, str]:
    """Returns the target and its signing key in clear (shown this once)."""
    name, type_, endpoint, timeout, interrupt_on_error = (new.name, new.type, new.endpoint, new.timeout,
                                                          new.interrupt_on_error)
    target_id, key = tx.new_id(), new_signing_key()
    sequence = await tx.event("target", target_id, "target.added",
                              {"name": name, "type": str(type_), "endpoint": endpoint}, resource_owner=None)
    values = dict(id=target_id, name=name, target_type=str(type_), endpoint=endpoint,
                  timeout_ms=int(timeout / timedelta(milliseconds=1)), interrupt_on_error=interrupt_on_error,
                  signing_key_sealed=sealer.seal(key.encode(), associated=target_id.encode()),
                  created_at=tx.now, changed_at=tx.now, sequence=sequence)
    async with unique(tx, *_already_exists()):
        await tx.conn.execute(T.insert().values(**values))
    target = Target(id=target_id, name=name, type=type_, endpoint=endpoint, timeout=timeout,
                    interrupt_on_error=interrupt_on_error, created_at=tx.now, changed_at=tx.now, sequence=sequence)
    return target, key


async def update(tx: Tx, sealer: Sealer, target_id: str, change: Change) -> tuple[datetime, str | None]:
    """Change the fields named; answers the change date and the new key when one was made. A
    change that changes nothing writes no event and answers the last change date (ZITADEL)."""
    current = await get(tx.conn, target_id)
    values: dict[str, Any] = {}
    if change.name is not None and change.name != current.name:
        values["name"] = change.name
    if change.type is not None and change.type != current.type:
        values["target_type"] = str(change.type)
    if change.interrupt_on_error is not None and change.interrupt_on_error != current.interrupt_on_error:
        values["interrupt_on_error"] = change.interrupt_on_error
    if change.endpoint is not None and change.endpoint != current.endpoint:
        values["endpoint"] = change.endpoint
    if change.timeout is not None and change.timeout != current.timeout:
        values["timeout_ms"] = int(change.timeout / timedelta(milliseconds=1))
    key = new_signing_key() if change.rotate_key else None
    if not values and key is None:
        return current.changed_at, None
    payload = {k: v for k, v in values.items() if k != "interrupt_on_error"} | {"key_rotated": key is not None}
    sequence = await tx.event("target", target_id, "target.changed", payload, resource_owner=None)
    if key is not None:
        values["signing_key_sealed"] = sealer.seal(key.encode(), associated=target_id.encode())
    async with unique(tx, *_already_exists()):
        await tx.conn.execute(T.update().where(T.c.id == target_id)
                              .values(changed_at=tx.now, sequence=sequence, **values))
    return tx.now, key


async def delete(tx: Tx, target_id: str) -> bool:
    """Remove a target and take it out of every execution; an unknown id is no error (ZITADEL)."""
    if (await tx.conn.execute(sa.select(T.c.id).where(T.c.id == target_id))).first() is None:
        return False
    await tx.event("target", target_id, "target.removed", {}, resource_owner=None)
    await tx.conn.execute(T.delete().where(T.c.id == target_id))
    for row in (await tx.conn.execute(sa.select(E.c.condition, E.c.targets))).all():
        if target_id in row.targets:
            left = [i for i in row.targets if i != target_id]
            await tx.conn.execute(E.update().where(E.c.condition == row.condition)
                                  .values(targets=left, changed_at=tx.now))
    return True


async def get(conn: AsyncConnection, target_id: str) -> Target:
    row = (await conn.execute(sa.select(T).where(T.c.id == target_id))).first()
    if row is None:
        raise not_found()
    return _target(row)


def select_targets() -> sa.Select[Any]:
    return sa.select(T.c.id, T.c.name, T.c.target_type, T.c.endpoint, T.c.timeout_ms, T.c.interrupt_on_error,
                     T.c.created_at, T.c.changed_at, T.c.sequence)


def target_of(row: Any) -> Target:
    return _target(row)


async def signing_keys(conn: AsyncConnection, sealer: Sealer, ids: Sequence[str]) -> dict[str, str]:
    """The targets' signing keys in clear (GetTarget and ListTargets show them)."""
    if not ids:
        return {}
    rows = (await conn.execute(sa.select(T.c.id, T.c.signing_key_sealed).where(T.c.id.in_(list(ids))))).all()
    return {row.id: sealer.open(bytes(row.signing_key_sealed), associated=row.id.encode()).decode() for row in rows}


async def existing_ids(conn: AsyncConnection, ids: Sequence[str]) -> set[str]:
    if not ids:
        return set()
    return set((await conn.execute(sa.select(T.c.id).where(T.c.id.in_(list(ids))))).scalars())


async def set_execution(tx: Tx, condition: str, targets: Sequence[str]) -> datetime:
    """Replace the execution's targets; an empty list removes the execution."""
    if len(set(targets)) != len(targets) or await existing_ids(tx.conn, targets) != set(targets):
        raise NotFound("Errors.Target.NotFound", "Errors.Target.NotFound", error_id="COMMAND-17e8fq1ggk")
    await tx.event("execution", condition[:64], "execution.set", {"condition": condition, "targets": list(targets)},
                   resource_owner=None)
    exists = (await tx.conn.execute(sa.select(E.c.condition).where(E.c.condition == condition))).first()
    if not targets:
        await tx.conn.execute(E.delete().where(E.c.condition == condition))
    elif exists:
        await tx.conn.execute(E.update().where(E.c.condition == condition)
                              .values(targets=list(targets), changed_at=tx.now))
    else:
        await tx.conn.execute(E.insert().values(condition=condition, targets=list(targets), created_at=tx.now,
                                                changed_at=tx.now))
    return tx.now


def select_executions() -> sa.Select[Any]:
    return sa.select(E.c.condition, E.c.targets, E.c.created_at, E.c.changed_at)


def execution_of(row: Any) -> Execution:
    return _execution(row)


@dataclass(frozen=True, slots=True)
class SignedTarget:
    """A target as a call needs it: the target and its signing key in clear."""

    target: Target
    signing_key: str | None  # None: the sealed key does not open (another master key)


async def targets_for(conn: AsyncConnection, sealer: Sealer, condition: str) -> list[SignedTarget]:
    """The execution's targets in order: one indexed lookup when there is no execution (the hot
    path of every token), a second by primary keys when there is."""
    ids = (await conn.execute(sa.select(E.c.targets).where(E.c.condition == condition))).scalar_one_or_none()
    if not ids:
        return []
    rows = {row.id: row for row in (await conn.execute(sa.select(T).where(T.c.id.in_(list(ids))))).all()}
    out = []
    for target_id in ids:
        row = rows.get(target_id)
        if row is not None:
            try:
                key: str | None = sealer.open(bytes(row.signing_key_sealed), associated=target_id.encode()).decode()
            except DecryptionError:
                key = None
            out.append(SignedTarget(_target(row), key))
    return out
