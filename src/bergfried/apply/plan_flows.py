"""Actions v1 of a declared organization (`actions:`, matched by name) and its flows (`flows:`, each
trigger's actions by name, in order), with the rules of the management API (domain/actions.py).

A declared action is active: an inactive one is reactivated. A script comes inline (`script`) or
from a file next to the world file (`scriptFile`); the plan shows a changed script as
`script: changed`, not its text. With `--prune`, a given `actions:` list deletes the organization's
actions it leaves out (they leave their flows too) and a given `flows:` list empties the triggers
it leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.apply.actions import Action, Context, Kind, Step, diff
from bergfried.apply.schema import FLOW_NAMES, TRIGGER_NAMES, OrgSpec, ScriptActionSpec, World
from bergfried.domain import actions as domain
from bergfried.domain.actions import ActionSpec, ActionState
from bergfried.errors import ConfigError, DomainError
from bergfried.management import actions as ops
from bergfried.store import actions as store
from bergfried.store import tables as t


@dataclass(frozen=True, slots=True)
class FlowsNow:
    actions: dict[str, domain.Action]  # by name (the first one, if a name is used twice)
    triggers: dict[tuple[str, str], tuple[str, ...]]  # (flow id, trigger id) → action names, in order


async def load(conn: AsyncConnection, org_ids: dict[str, str]) -> dict[str, FlowsNow]:
    """By lower-case organization name, for the declared organizations that exist."""
    found: dict[str, FlowsNow] = {}
    for key, org_id in org_ids.items():
        rows = (await conn.execute(store.search(org_id).order_by(store.A.c.id))).all()
        actions: dict[str, domain.Action] = {}
        for row in rows:
            actions.setdefault(row.name, store.from_row(row))
        names = {row.id: row.name for row in rows}
        ft = t.flow_triggers
        triggers: dict[tuple[str, str], tuple[str, ...]] = {}
        for row in (await conn.execute(sa.select(ft).where(ft.c.org_id == org_id).order_by(ft.c.position))).all():
            pair = (row.flow_type, row.trigger_type)
            triggers[pair] = (*triggers.get(pair, ()), names.get(row.action_id, row.action_id))
        found[key] = FlowsNow(actions, triggers)
    return found


def _script(spec: ScriptActionSpec, at: str, base_dir: Path) -> str:
    if spec.script is not None:
        return spec.script
    assert spec.script_file is not None
    path = spec.script_file if spec.script_file.is_absolute() else base_dir / spec.script_file
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{at}.scriptFile: cannot read {path}: {exc.strerror}") from None


def _action(org: OrgSpec, spec: ScriptActionSpec, at: str, now: domain.Action | None, base_dir: Path) -> Action | None:
    wanted = ActionSpec(spec.name, _script(spec, at, base_dir), spec.timeout, spec.allowed_to_fail)
    target = f"{org.name}/{spec.name}"
    try:
        wanted.validated()
    except DomainError as exc:
        raise ConfigError(f"{at}: {exc.description}") from None

    async def create(ctx: Context) -> None:
        await ops.create(ctx.tx, ctx.org_id(org.name), wanted)

    if now is None:
        return Action(Kind.CREATE, "action", target, at, create)
    changes = diff({"script": ("unchanged", "changed" if now.script != wanted.script else "unchanged"),
                    "timeout": (now.timeout, wanted.timeout),
                    "allowedToFail": (now.allowed_to_fail, wanted.allowed_to_fail),
                    "state": (now.state.value, ActionState.ACTIVE.value)})
    if not changes:
        return None
    action_id, org_id, settings_changed = now.id, now.org_id, any(not c.startswith("state") for c in changes)

    async def change(ctx: Context) -> None:
        if settings_changed:
            await ops.update(ctx.tx, org_id, action_id, wanted)
        if now.state != ActionState.ACTIVE:
            await ops.set_state(ctx.tx, org_id, action_id, ActionState.ACTIVE)

    return Action(Kind.CHANGE, "action", target, at, change, changes)


async def _ids(ctx: Context, org_id: str, names: tuple[str, ...], at: str) -> list[str]:
    a = t.actions
    rows = await ctx.tx.conn.execute(sa.select(a.c.name, a.c.id).where(a.c.org_id == org_id).order_by(a.c.id))
    by_name: dict[str, str] = {}
    for row in rows:
        by_name.setdefault(row.name, row.id)
    missing = [name for name in names if name not in by_name]
    if missing:
        raise ConfigError(f"{at}.actions: no action named {missing[0]!r} in this organization")
    return [by_name[name] for name in names]


def _trigger(org: OrgSpec, flow: domain.Flow, trigger: domain.Trigger, names: tuple[str, ...], at: str,
             now: FlowsNow | None) -> Action | None:
    current = now.triggers.get((flow.id, trigger.id), ()) if now else ()
    if current == names:
        return None

    async def set_actions(ctx: Context) -> None:
        org_id = ctx.org_id(org.name)
        await ops.set_trigger_actions(ctx.tx, org_id, flow.id, trigger.id, await _ids(ctx, org_id, names, at))

    kind = Kind.DELETE if not names else (Kind.CHANGE if current else Kind.CREATE)
    return Action(kind, "flow trigger", f"{org.name}/{flow.text}/{trigger.text}", at, set_actions,
                  diff({"actions": (current, names)}))


def _flow(flow_type: str, at: str) -> domain.Flow:
    try:
        return domain.flow(FLOW_NAMES.get(flow_type, flow_type))
    except DomainError as exc:
        raise ConfigError(f"{at}.flowType: {exc.description}") from None


def _trigger_of(flow: domain.Flow, trigger_type: str, at: str) -> domain.Trigger:
    try:
        return domain.trigger(flow, TRIGGER_NAMES.get(trigger_type, trigger_type))
    except DomainError as exc:
        raise ConfigError(f"{at}.triggerType: {exc.description}") from None


def _org(org: OrgSpec, at: str, now: FlowsNow | None, base_dir: Path, prune: bool) -> list[Action | None]:
    out: list[Action | None] = []
    for i, spec in enumerate(org.actions or ()):
        out.append(_action(org, spec, f"{at}.actions[{i}]", now.actions.get(spec.name) if now else None, base_dir))
    declared = {spec.name for spec in org.actions or ()}
    if now is not None and not (prune and org.actions is not None):  # pruned actions can't be bound
        declared |= set(now.actions)
    seen: set[tuple[str, str]] = set()
    for i, flow_spec in enumerate(org.flows or ()):
        flow = _flow(flow_spec.flow_type, f"{at}.flows[{i}]")
        for j, trigger_spec in enumerate(flow_spec.triggers):
            tat = f"{at}.flows[{i}].triggers[{j}]"
            trigger = _trigger_of(flow, trigger_spec.trigger_type, tat)
            if (flow.id, trigger.id) in seen:
                raise ConfigError(f"{tat}: duplicate trigger {trigger.text!r} of flow {flow.text!r}")
            seen.add((flow.id, trigger.id))
            unknown = [name for name in trigger_spec.actions if name not in declared]
            if unknown:
                raise ConfigError(f"{tat}.actions: no action named {unknown[0]!r} in this organization")
            out.append(_trigger(org, flow, trigger, trigger_spec.actions, tat, now))
    if prune and org.flows is not None and now is not None:
        for flow_id, trigger_id in sorted(set(now.triggers) - seen):
            flow = domain.flow(flow_id)
            out.append(_trigger(org, flow, domain.TRIGGERS[trigger_id], (), f"{at}.flows", now))
    if prune and org.actions is not None and now is not None:
        kept = {spec.name for spec in org.actions}
        for name, action in sorted(now.actions.items()):
            if name not in kept:
                out.append(Action(Kind.DELETE, "action", f"{org.name}/{name}", f"{at}.actions",
                                  _delete(action.org_id, action.id)))
    return out


def _delete(org_id: str, action_id: str) -> Step:
    async def delete(ctx: Context) -> None:
        await ops.delete(ctx.tx, org_id, action_id)
    return delete


def plan(world: World, now: dict[str, FlowsNow], base_dir: Path, *, prune: bool) -> list[Action]:
    actions: list[Action | None] = []
    for i, org in enumerate(world.orgs):
        actions.extend(_org(org, f"orgs[{i}]", now.get(org.name.strip().lower()), base_dir, prune))
    return [a for a in actions if a is not None]
