"""Actions v1 and flows of the context organization (spec/actions.md §2.1): ZITADEL's rules on
names, scripts and timeouts, and a trigger may only list actions of the same organization."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.domain import actions as domain
from bergfried.domain.actions import Action, ActionSpec, ActionState
from bergfried.domain.common import ObjectDetails
from bergfried.errors import PreconditionFailed
from bergfried.store import actions as store
from bergfried.store.tx import Tx


async def create(tx: Tx, org_id: str, spec: ActionSpec) -> tuple[str, ObjectDetails]:
    return await store.add(tx, org_id, spec.validated())


async def update(tx: Tx, org_id: str, action_id: str, spec: ActionSpec) -> ObjectDetails:
    spec.validated()
    return await store.change(tx, await store.get(tx.conn, org_id, action_id), spec)


async def set_state(tx: Tx, org_id: str, action_id: str, state: ActionState) -> ObjectDetails:
    return await store.set_state(tx, await store.get(tx.conn, org_id, action_id), state)


async def delete(tx: Tx, org_id: str, action_id: str) -> ObjectDetails:
    return await store.remove(tx, await store.get(tx.conn, org_id, action_id))


async def get(conn: AsyncConnection, org_id: str, action_id: str) -> Action:
    return await store.get(conn, org_id, action_id)


async def set_trigger_actions(tx: Tx, org_id: str, flow_type: str, trigger_type: str,
                              action_ids: list[str]) -> ObjectDetails:
    flow = domain.flow(flow_type)
    trigger = domain.trigger(flow, trigger_type)
    if await store.missing(tx.conn, org_id, action_ids):
        raise PreconditionFailed("Errors.Flow.ActionIDsNotExist", "Not all actions exist",
                                 error_id="COMMAND-dg422")
    return await store.set_trigger(tx, org_id, flow.id, trigger.id, action_ids)


async def flow(conn: AsyncConnection, org_id: str, flow_type: str) -> tuple[domain.Flow, dict[str, list[Action]]]:
    found = domain.flow(flow_type)
    return found, await store.trigger_actions(conn, org_id, found.id)


async def clear_flow(tx: Tx, org_id: str, flow_type: str) -> ObjectDetails:
    return await store.clear_flow(tx, org_id, domain.flow(flow_type).id)
