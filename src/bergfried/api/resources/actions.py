"""Actions v1 and flows (`/management/v1/actions`, `/management/v1/flows`; spec/actions.md §2.1,
`proto/zitadel/management.proto`, `proto/zitadel/action.proto`).

An action's `timeout` reads back as the time it may really run: an action created without one (or
with `0s`) shows `20s`, as ZITADEL's converter does (`Action.Timeout()`).
"""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Annotated, Any

from pydantic import Field

from bergfried.api import details, lists
from bergfried.api.lists import ListDetails, Method, ObjectDetailsModel, TextQueryMethod
from bergfried.api.messages import DetailsResponse, Empty, ListRequest
from bergfried.api.protojson import ApiModel, Duration, enum_in
from bergfried.api.registry import Call, Resource
from bergfried.domain import actions as domain
from bergfried.domain.actions import Action, ActionSpec, ActionState
from bergfried.management import actions as ops
from bergfried.store import actions as store

api = Resource("Actions", "/management/v1")
A = store.A


class LocalizedMessage(ApiModel):
    key: str = ""
    localized_message: str = ""


class FlowTypeModel(ApiModel):
    id: str = ""
    name: LocalizedMessage | None = None


class TriggerTypeModel(FlowTypeModel):
    pass


class ActionModel(ApiModel):
    id: str = ""
    details: ObjectDetailsModel | None = None
    state: Annotated[ActionState, enum_in(ActionState)] = ActionState.UNSPECIFIED
    name: str = ""
    script: str = ""
    timeout: Duration | None = None
    allowed_to_fail: bool = False


class ActionRequest(ApiModel):
    name: str = ""
    script: str = ""
    timeout: Duration | None = None
    allowed_to_fail: bool = False

    def spec(self) -> ActionSpec:
        return ActionSpec(self.name, self.script, self.timeout or timedelta(0), self.allowed_to_fail)


class UpdateActionRequest(ActionRequest):
    id: str


class ActionIdRequest(Empty):
    id: str


class CreateActionResponse(ApiModel):
    id: str = ""
    details: ObjectDetailsModel | None = None


class GetActionResponse(ApiModel):
    action: ActionModel | None = None


class ActionNameQuery(ApiModel):
    name: Annotated[str, Field(max_length=200)] = ""
    method: Method = TextQueryMethod.EQUALS


class ActionStateQuery(ApiModel):
    state: Annotated[ActionState, enum_in(ActionState)] = ActionState.UNSPECIFIED


class ActionIdQuery(ApiModel):
    id: str = ""


class ActionQuery(ApiModel):
    action_name_query: ActionNameQuery | None = None
    action_state_query: ActionStateQuery | None = None
    action_id_query: ActionIdQuery | None = None


class ActionFieldName(enum.StrEnum):
    UNSPECIFIED = "ACTION_FIELD_NAME_UNSPECIFIED"
    NAME = "ACTION_FIELD_NAME_NAME"
    ID = "ACTION_FIELD_NAME_ID"
    STATE = "ACTION_FIELD_NAME_STATE"


class ListActionsRequest(ListRequest):
    sorting_column: Annotated[ActionFieldName, enum_in(ActionFieldName)] = ActionFieldName.UNSPECIFIED
    queries: tuple[ActionQuery, ...] = ()


class ListActionsResponse(ApiModel):
    details: ListDetails | None = None
    sorting_column: Annotated[ActionFieldName, enum_in(ActionFieldName)] = ActionFieldName.UNSPECIFIED
    result: tuple[ActionModel, ...] = ()


class FlowTypeRequest(Empty):
    type: str


class SetTriggerActionsRequest(ApiModel):
    flow_type: str
    trigger_type: str
    action_ids: tuple[str, ...] = ()


class TriggerActionModel(ApiModel):
    trigger_type: TriggerTypeModel | None = None
    actions: tuple[ActionModel, ...] = ()


class FlowState(enum.StrEnum):
    UNSPECIFIED = "FLOW_STATE_UNSPECIFIED"
    INACTIVE = "FLOW_STATE_INACTIVE"
    ACTIVE = "FLOW_STATE_ACTIVE"


class FlowModel(ApiModel):
    type: FlowTypeModel | None = None
    details: ObjectDetailsModel | None = None
    state: Annotated[FlowState, enum_in(FlowState)] = FlowState.UNSPECIFIED
    trigger_actions: tuple[TriggerActionModel, ...] = ()


class GetFlowResponse(ApiModel):
    flow: FlowModel | None = None


class ListFlowTypesResponse(ApiModel):
    result: tuple[FlowTypeModel, ...] = ()


class ListFlowTriggerTypesResponse(ApiModel):
    result: tuple[TriggerTypeModel, ...] = ()


def action_model(action: Action) -> ActionModel:
    return ActionModel(
        id=action.id, details=details.of_row(action.sequence, action.created_at, action.changed_at, action.org_id),
        state=action.state, name=action.name, script=action.script, timeout=action.limit,
        allowed_to_fail=action.allowed_to_fail)


def _type(item: domain.Flow | domain.Trigger) -> FlowTypeModel:
    return FlowTypeModel(id=item.id, name=LocalizedMessage(key=item.key, localized_message=item.text))


def _trigger(item: domain.Trigger) -> TriggerTypeModel:
    return TriggerTypeModel(id=item.id, name=LocalizedMessage(key=item.key, localized_message=item.text))


@api.post("/actions", "CreateAction", permission="org.action.write")
async def create(call: Call, req: ActionRequest) -> CreateActionResponse:
    """Create an action: a script whose function `name(ctx, api)` the flows' triggers call."""
    async with call.store.write(call.editor) as tx:
        action_id, done = await ops.create(tx, call.org_id, req.spec())
    return CreateActionResponse(id=action_id, details=details.of(done))


@api.post("/actions/_search", "ListActions", permission="org.action.read")
async def search(call: Call, req: ListActionsRequest) -> ListActionsResponse:
    """The organization's actions, filtered by name, state or id, paged."""
    query = store.search(call.org_id)
    for q in req.queries:
        if q.action_name_query is not None:
            query = query.where(lists.text_condition(A.c.name, q.action_name_query.name, q.action_name_query.method))
        if q.action_state_query is not None:
            query = query.where(A.c.state == q.action_state_query.state)
        if q.action_id_query is not None:
            query = query.where(A.c.id == q.action_id_query.id)
    sort: Any = {ActionFieldName.NAME: A.c.name, ActionFieldName.ID: A.c.id,
                 ActionFieldName.STATE: A.c.state}.get(req.sorting_column)
    async with call.store.read() as conn:
        page = await lists.page(conn, query, req.query, call.store.clock(), default_order=A.c.id, sort_column=sort)
    return ListActionsResponse(details=page.details(), sorting_column=req.sorting_column,
                               result=tuple(action_model(store.from_row(r)) for r in page.rows))


@api.get("/actions/{id}", "GetAction", permission="org.action.read")
async def get(call: Call, req: ActionIdRequest) -> GetActionResponse:
    """One action of the organization."""
    async with call.store.read() as conn:
        return GetActionResponse(action=action_model(await ops.get(conn, call.org_id, req.id)))


@api.put("/actions/{id}", "UpdateAction", permission="org.action.write")
async def update(call: Call, req: UpdateActionRequest) -> DetailsResponse:
    """Change an action's name, script, timeout and allowedToFail (all of them, as sent)."""
    async with call.store.write(call.editor) as tx:
        done = await ops.update(tx, call.org_id, req.id, req.spec())
    return DetailsResponse(details=details.of(done))


@api.post("/actions/{id}/_deactivate", "DeactivateAction", permission="org.action.write")
async def deactivate(call: Call, req: ActionIdRequest) -> DetailsResponse:
    """A deactivated action stays in its flows but does not run."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.set_state(tx, call.org_id, req.id,
                                                                      ActionState.INACTIVE)))


@api.post("/actions/{id}/_reactivate", "ReactivateAction", permission="org.action.write")
async def reactivate(call: Call, req: ActionIdRequest) -> DetailsResponse:
    """Run a deactivated action again."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.set_state(tx, call.org_id, req.id, ActionState.ACTIVE)))


@api.delete("/actions/{id}", "DeleteAction", permission="org.action.delete")
async def delete(call: Call, req: ActionIdRequest) -> DetailsResponse:
    """Delete an action; it leaves every flow it was in."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.delete(tx, call.org_id, req.id)))


@api.post("/flows/types/_search", "ListFlowTypes", permission="org.flow.read")
async def flow_types(call: Call, req: Empty) -> ListFlowTypesResponse:
    """Every flow type."""
    return ListFlowTypesResponse(result=tuple(_type(f) for f in domain.FLOWS))


@api.post("/flows/{type}/triggers/_search", "ListFlowTriggerTypes", permission="org.flow.read")
async def trigger_types(call: Call, req: FlowTypeRequest) -> ListFlowTriggerTypesResponse:
    """The trigger types of one flow type."""
    return ListFlowTriggerTypesResponse(result=tuple(_trigger(t) for t in domain.flow(req.type).triggers))


@api.get("/flows/{type}", "GetFlow", permission="org.flow.read")
async def get_flow(call: Call, req: FlowTypeRequest) -> GetFlowResponse:
    """A flow of the organization: each trigger with its actions, in the order they run."""
    async with call.store.read() as conn:
        flow, triggers = await ops.flow(conn, call.org_id, req.type)
    bound = tuple(TriggerActionModel(trigger_type=_trigger(domain.TRIGGERS[t]),
                                     actions=tuple(action_model(a) for a in actions))
                  for t, actions in sorted(triggers.items()))
    return GetFlowResponse(flow=FlowModel(
        type=_type(flow), details=ObjectDetailsModel(resource_owner=call.org_id),
        state=FlowState.ACTIVE if bound else FlowState.INACTIVE, trigger_actions=bound))


@api.post("/flows/{type}/_clear", "ClearFlow", permission="org.flow.delete")
async def clear_flow(call: Call, req: FlowTypeRequest) -> DetailsResponse:
    """Remove every action from every trigger of the flow."""
    async with call.store.write(call.editor) as tx:
        return DetailsResponse(details=details.of(await ops.clear_flow(tx, call.org_id, req.type)))


@api.post("/flows/{flowType}/trigger/{triggerType}", "SetTriggerActions", permission="org.flow.write")
async def set_trigger_actions(call: Call, req: SetTriggerActionsRequest) -> DetailsResponse:
    """Set the actions of one trigger (the list replaces the one before; empty removes them)."""
    async with call.store.write(call.editor) as tx:
        done = await ops.set_trigger_actions(tx, call.org_id, req.flow_type, req.trigger_type, list(req.action_ids))
    return DetailsResponse(details=details.of(done))
