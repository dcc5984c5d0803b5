"""Actions v2 in the world file: `targets:` (matched by name) and `executions:` (matched by their
condition), planned after the organizations' actions, with the rules of the API
(domain/targets.py, management/actions_v2.py).

An execution names its targets by name, declared in the same file or already in the database.
A target's signing key is made when it is created and is read with GetTarget
(`/v2/actions/targets/{id}`); apply never prints or rotates it. With `--prune`, a given
`targets:` list deletes the targets it leaves out (and takes them out of every execution), a given
`executions:` list removes the executions it leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.apply.actions import Action, Context, Kind, Step, diff
from bergfried.apply.schema import ConditionSpec, TargetSpec, World
from bergfried.domain.targets import NewTarget, Target, TargetType
from bergfried.errors import ConfigError, DomainError
from bergfried.management import actions_v2 as ops
from bergfried.store import tables as t
from bergfried.store import targets as store


@dataclass(frozen=True, slots=True)
class TargetsNow:
    targets: dict[str, Target]  # by name
    executions: dict[str, tuple[str, ...]]  # condition → target ids


async def load(conn: AsyncConnection) -> TargetsNow:
    targets = {x.name: x for x in map(store.target_of, (await conn.execute(store.select_targets())).all())}
    executions = {e.condition: e.targets for e in map(store.execution_of,
                                                      (await conn.execute(store.select_executions())).all())}
    return TargetsNow(targets, executions)


def _type(spec: TargetSpec) -> tuple[TargetType, bool]:
    if spec.rest_webhook is not None:
        return TargetType.WEBHOOK, spec.rest_webhook.interrupt_on_error
    if spec.rest_call is not None:
        return TargetType.CALL, spec.rest_call.interrupt_on_error
    return TargetType.ASYNC, False


def _new(spec: TargetSpec) -> NewTarget:
    kind, interrupt = _type(spec)
    return NewTarget(name=spec.name, type=kind, endpoint=spec.endpoint, timeout=spec.timeout,
                     interrupt_on_error=interrupt)


def _target(spec: TargetSpec, at: str, now: Target | None) -> Action | None:
    new = _new(spec)

    async def create(ctx: Context) -> None:
        await store.create(ctx.tx, store.sealer(ctx.services.master), new.validated())

    if now is None:
        return Action(Kind.CREATE, "target", spec.name, at, create)
    changes = diff({"endpoint": (now.endpoint, new.endpoint), "timeout": (now.timeout, new.timeout),
                    "type": (str(now.type), str(new.type)),
                    "interruptOnError": (now.interrupt_on_error, new.interrupt_on_error)})
    if not changes:
        return None
    target_id = now.id

    async def change(ctx: Context) -> None:
        new.validated()
        await store.update(ctx.tx, store.sealer(ctx.services.master), target_id, store.Change(
            type=new.type, interrupt_on_error=new.interrupt_on_error, endpoint=new.endpoint, timeout=new.timeout))

    return Action(Kind.CHANGE, "target", spec.name, at, change, changes)


def condition_id(spec: ConditionSpec, at: str) -> str:
    try:
        if spec.function is not None:
            return ops.function_condition(spec.function.name)
        if spec.event is not None:
            return ops.event_condition(spec.event.event, spec.event.group, spec.event.all)
        kind, call = ("request", spec.request) if spec.request is not None else ("response", spec.response)
        assert call is not None
        return ops.call_condition(kind, call.method, call.service, call.all)
    except DomainError as exc:
        raise ConfigError(f"{at}.condition: {exc.description}") from None


async def _ids(ctx: Context, names: tuple[str, ...], at: str) -> list[str]:
    result = await ctx.tx.conn.execute(sa.select(t.targets.c.name, t.targets.c.id)
                                       .where(t.targets.c.name.in_(list(names))))
    rows = {row.name: row.id for row in result}
    missing = [name for name in names if name not in rows]
    if missing:
        raise ConfigError(f"{at}.targets: no target named {missing[0]!r}")
    return [rows[name] for name in names]


def _execution(condition: str, names: tuple[str, ...], at: str, now: TargetsNow) -> Action | None:
    by_id = {x.id: x.name for x in now.targets.values()}
    current = now.executions.get(condition)
    current_names = tuple(by_id.get(i, i) for i in current) if current is not None else None
    if current_names == names or (current is None and not names):
        return None

    async def set_targets(ctx: Context) -> None:
        await store.set_execution(ctx.tx, condition, await _ids(ctx, names, at))

    kind = Kind.CREATE if current is None else Kind.CHANGE
    return Action(kind, "execution", condition, at, set_targets,
                  diff({"targets": (current_names or (), names)}) if current is not None else ())


def plan(world: World, now: TargetsNow, *, prune: bool) -> list[Action]:
    actions: list[Action | None] = []
    deletions: list[Action] = []
    for i, spec in enumerate(world.targets or ()):
        actions.append(_target(spec, f"targets[{i}]", now.targets.get(spec.name)))
    declared_names = {spec.name for spec in world.targets or ()} | set(now.targets)
    declared_conditions = set()
    for i, execution in enumerate(world.executions or ()):
        at = f"executions[{i}]"
        condition = condition_id(execution.condition, at)
        if condition in declared_conditions:
            raise ConfigError(f"{at}.condition: duplicate execution {condition!r}")
        declared_conditions.add(condition)
        unknown = [name for name in execution.targets if name not in declared_names]
        if unknown:
            raise ConfigError(f"{at}.targets: no target named {unknown[0]!r}")
        actions.append(_execution(condition, execution.targets, at, now))
    if prune and world.executions is not None:
        for condition in sorted(set(now.executions) - declared_conditions):
            deletions.append(Action(Kind.DELETE, "execution", condition, "executions", _clear(condition)))
    if prune and world.targets is not None:
        kept = {spec.name for spec in world.targets}
        for name, target in sorted(now.targets.items()):
            if name not in kept:
                deletions.append(Action(Kind.DELETE, "target", name, "targets", _delete(target.id)))
    return [a for a in actions if a is not None] + deletions


def _clear(condition: str) -> Step:
    async def clear(ctx: Context) -> None:
        await store.set_execution(ctx.tx, condition, [])
    return clear


def _delete(target_id: str) -> Step:
    async def delete(ctx: Context) -> None:
        await store.delete(ctx.tx, target_id)
    return delete

