"""Actions v1 of an organization and the actions bound to each flow trigger (spec/actions.md §2.1).

`active_for` is on the token hot path: one query on the primary key of `flow_triggers`
(organization, flow, trigger) joined to the actions, so an organization without actions costs
one indexed lookup that finds nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain.actions import Action, ActionSpec, ActionState
from bergfried.domain.common import ObjectDetails
from bergfried.errors import NotFound, PreconditionFailed
from bergfried.store import tables as t
from bergfried.store._common import added, changed, touch
from bergfried.store.tx import Tx

A, FT = t.actions, t.flow_triggers


def from_row(row: Any) -> Action:
    return Action(id=row.id, org_id=row.org_id, name=row.name, script=row.script,
                  timeout=timedelta(milliseconds=row.timeout_ms), allowed_to_fail=bool(row.allowed_to_fail),
                  state=ActionState(row.state), created_at=row.created_at, changed_at=row.changed_at,
                  sequence=int(row.sequence))


def _millis(timeout: timedelta) -> int:
    return round(timeout.total_seconds() * 1000)


def _values(spec: ActionSpec) -> dict[str, Any]:
    return {"name": spec.name, "script": spec.script, "timeout_ms": _millis(spec.timeout),
            "allowed_to_fail": spec.allowed_to_fail}


async def add(tx: Tx, org_id: str, spec: ActionSpec) -> tuple[str, ObjectDetails]:
    action_id = tx.new_id()
    sequence = await tx.event("action", action_id, "action.added", {"name": spec.name}, resource_owner=org_id)
    await tx.conn.execute(A.insert().values(
        id=action_id, org_id=org_id, **_values(spec), state=ActionState.ACTIVE, created_at=tx.now,
        changed_at=tx.now, sequence=sequence))
    return action_id, added(tx, sequence, org_id)


async def get(conn: AsyncConnection, org_id: str, action_id: str) -> Action:
    row = (await conn.execute(sa.select(A).where(A.c.id == action_id, A.c.org_id == org_id))).first()
    if row is None:
        raise NotFound("Errors.Action.NotFound", "Action not found", error_id="COMMAND-Sfg2t")
    return from_row(row)


async def change(tx: Tx, action: Action, spec: ActionSpec) -> ObjectDetails:
    before = ActionSpec(action.name, action.script, action.timeout, action.allowed_to_fail)
    if _values(spec) == _values(before):
        raise PreconditionFailed("Errors.Action.NotChanged", "Action has not been changed", error_id="COMMAND-Dfg32")
    sequence = await tx.event("action", action.id, "action.changed", {"name": spec.name},
                              resource_owner=action.org_id)
    await touch(tx, A, A.c.id == action.id, sequence, **_values(spec))
    return changed(tx, sequence, action.org_id)


async def set_state(tx: Tx, action: Action, state: ActionState) -> ObjectDetails:
    if action.state == state:
        key, message = (("Errors.Action.NotInactive", "Action is not inactive") if state == ActionState.ACTIVE
                        else ("Errors.Action.NotActive", "Action is not active"))
        raise PreconditionFailed(key, message, error_id="COMMAND-Jdk32")
    event = "action.reactivated" if state == ActionState.ACTIVE else "action.deactivated"
    sequence = await tx.event("action", action.id, event, resource_owner=action.org_id)
    await touch(tx, A, A.c.id == action.id, sequence, state=state)
    return changed(tx, sequence, action.org_id)


async def remove(tx: Tx, action: Action) -> ObjectDetails:
    """The action leaves every flow trigger it was bound to, as in ZITADEL."""
    sequence = await tx.event("action", action.id, "action.removed", {"name": action.name},
                              resource_owner=action.org_id)
    await tx.conn.execute(FT.delete().where(FT.c.action_id == action.id))
    await tx.conn.execute(A.delete().where(A.c.id == action.id))
    return changed(tx, sequence, action.org_id)


def search(org_id: str) -> sa.Select[Any]:
    return sa.select(A).where(A.c.org_id == org_id)


async def missing(conn: AsyncConnection, org_id: str, action_ids: list[str]) -> set[str]:
    """The ids that are no action of this organization."""
    if not action_ids:
        return set()
    found = (await conn.execute(sa.select(A.c.id).where(A.c.org_id == org_id, A.c.id.in_(set(action_ids))))).scalars()
    return set(action_ids) - set(found)


async def trigger_actions(conn: AsyncConnection, org_id: str, flow_id: str) -> dict[str, list[Action]]:
    """Every trigger of a flow with its actions in order (active or not)."""
    rows = await conn.execute(
        sa.select(FT.c.trigger_type, A).join(A, A.c.id == FT.c.action_id)
        .where(FT.c.org_id == org_id, FT.c.flow_type == flow_id).order_by(FT.c.trigger_type, FT.c.position))
    out: dict[str, list[Action]] = {}
    for row in rows:
        out.setdefault(row.trigger_type, []).append(from_row(row))
    return out


async def set_trigger(tx: Tx, org_id: str, flow_id: str, trigger_id: str, action_ids: list[str]) -> ObjectDetails:
    where = sa.and_(FT.c.org_id == org_id, FT.c.flow_type == flow_id, FT.c.trigger_type == trigger_id)
    current = list((await tx.conn.execute(sa.select(FT.c.action_id).where(where).order_by(FT.c.position))).scalars())
    if current == action_ids:
        raise PreconditionFailed("Errors.Flow.NoChanges", "No Changes", error_id="COMMAND-Nfh52")
    sequence = await tx.event("org", org_id, "org.flow.trigger_actions.set",
                              {"flowType": flow_id, "triggerType": trigger_id, "actionIDs": action_ids},
                              resource_owner=org_id)
    await tx.conn.execute(FT.delete().where(where))
    if action_ids:
        await tx.conn.execute(FT.insert(), [
            {"org_id": org_id, "flow_type": flow_id, "trigger_type": trigger_id, "position": i, "action_id": a}
            for i, a in enumerate(action_ids)])
    return changed(tx, sequence, org_id)


async def clear_flow(tx: Tx, org_id: str, flow_id: str) -> ObjectDetails:
    where = sa.and_(FT.c.org_id == org_id, FT.c.flow_type == flow_id)
    if (await tx.conn.execute(sa.select(FT.c.position).where(where).limit(1))).first() is None:
        raise PreconditionFailed("Errors.Flow.Empty", "Flow is empty", error_id="COMMAND-DfH23")
    sequence = await tx.event("org", org_id, "org.flow.cleared", {"flowType": flow_id}, resource_owner=org_id)
    await tx.conn.execute(FT.delete().where(where))
    return changed(tx, sequence, org_id)


async def active_for(conn: AsyncConnection, org_id: str, flow_id: str, trigger_id: str) -> list[Action]:
    """The hot-path lookup: the active actions of one trigger, in order (one indexed query)."""
    rows = await conn.execute(
        sa.select(A).join(FT, FT.c.action_id == A.c.id)
        .where(FT.c.org_id == org_id, FT.c.flow_type == flow_id, FT.c.trigger_type == trigger_id,
               A.c.state == ActionState.ACTIVE)
        .order_by(FT.c.position))
    return [from_row(row) for row in rows]
