"""Action service v2 (`/v2/actions/...`, also under `/v2beta/actions/...`): targets and executions
(spec/actions.md §3.1, `proto/zitadel/action/v2/action_service.proto`).

Permissions are the instance's: `action.target.read/write/delete`, `action.execution.read/write`
(IAM_OWNER; the viewer reads). Any condition may be stored and listed; only the functions
`preuserinfo` and `preaccesstoken` run (actions/v2/functions.py). The `actions` feature is GA in
ZITADEL v4 and always on here. v2beta differs only in its lists (`query`/`details`/`result`
instead of `pagination`/`targets`/`executions`) and in an execution's targets, which it writes as
`[{"target": "<id>"}]`.
"""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from bergfried.api import lists
from bergfried.api.lists import ListQuery, Method, TextQueryMethod
from bergfried.api.messages import Empty
from bergfried.api.protojson import ApiModel, Duration, Int64, Timestamp, enum_in
from bergfried.api.registry import Call, Resource
from bergfried.api.requests import invalid
from bergfried.domain.targets import Execution, NewTarget, Target, TargetType
from bergfried.management import actions_v2 as ops
from bergfried.store import tables as t
from bergfried.store import targets as store

api = Resource("ActionService", "/v2/actions", connect="zitadel.action.v2.ActionService")
beta = Resource("ActionService (v2beta)", "/v2beta/actions", connect="zitadel.action.v2beta.ActionService")
T = t.targets


class RestWebhook(ApiModel):
    interrupt_on_error: bool = False


class RestCall(ApiModel):
    interrupt_on_error: bool = False


class RestAsync(ApiModel):
    pass


class TargetModel(ApiModel):
    id: str = ""
    creation_date: Timestamp | None = None
    change_date: Timestamp | None = None
    name: str = ""
    rest_webhook: RestWebhook | None = None
    rest_call: RestCall | None = None
    rest_async: RestAsync | None = None
    timeout: Duration | None = None
    endpoint: str = ""
    signing_key: str = ""
    payload_type: str = "PAYLOAD_TYPE_JSON"


_JSON_PAYLOAD = ("", "PAYLOAD_TYPE_UNSPECIFIED", "PAYLOAD_TYPE_JSON", 0, 1)


class TargetTypeFields(ApiModel):
    rest_webhook: RestWebhook | None = None
    rest_call: RestCall | None = None
    rest_async: RestAsync | None = None
    payload_type: str | int = ""

    def check_payload_type(self, rpc: str) -> None:
        """Only JSON bodies with the signature header are sent; a JWT or JWE payload is refused
        rather than silently sent as plain JSON."""
        if self.payload_type not in _JSON_PAYLOAD:
            raise invalid(f"invalid {rpc}Request.PayloadType: only PAYLOAD_TYPE_JSON is supported")

    def target_type(self, rpc: str, *, required: bool) -> tuple[TargetType, bool] | None:
        chosen = [(TargetType.WEBHOOK, self.rest_webhook), (TargetType.CALL, self.rest_call),
                  (TargetType.ASYNC, self.rest_async)]
        given = [(kind, value) for kind, value in chosen if value is not None]
        if len(given) > 1:
            raise invalid(f"invalid {rpc}Request.TargetType: only one of restWebhook, restCall, restAsync may be set")
        if not given:
            if required:
                raise invalid(f"invalid {rpc}Request.TargetType: value is required")
            return None
        kind, value = given[0]
        return kind, bool(getattr(value, "interrupt_on_error", False))


class CreateTargetRequest(TargetTypeFields):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    timeout: Duration | None = None
    endpoint: Annotated[str, Field(min_length=1, max_length=2048)]


class CreateTargetResponse(ApiModel):
    id: str = ""
    creation_date: Timestamp | None = None
    signing_key: str = ""


class UpdateTargetRequest(TargetTypeFields):
    id: Annotated[str, Field(min_length=1, max_length=200)]
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    timeout: Duration | None = None
    endpoint: Annotated[str | None, Field(min_length=1, max_length=2048)] = None
    expiration_signing_key: Duration | None = None


class UpdateTargetResponse(ApiModel):
    change_date: Timestamp | None = None
    signing_key: str = ""


class TargetIdRequest(Empty):
    id: Annotated[str, Field(min_length=1, max_length=200)]


class DeleteTargetResponse(ApiModel):
    deletion_date: Timestamp | None = None


class GetTargetResponse(ApiModel):
    target: TargetModel | None = None


class TargetFieldName(enum.StrEnum):
    UNSPECIFIED = "TARGET_FIELD_NAME_UNSPECIFIED"
    ID = "TARGET_FIELD_NAME_ID"
    CREATED_DATE = "TARGET_FIELD_NAME_CREATED_DATE"
    CHANGED_DATE = "TARGET_FIELD_NAME_CHANGED_DATE"
    NAME = "TARGET_FIELD_NAME_NAME"
    TARGET_TYPE = "TARGET_FIELD_NAME_TARGET_TYPE"
    URL = "TARGET_FIELD_NAME_URL"
    TIMEOUT = "TARGET_FIELD_NAME_TIMEOUT"
    INTERRUPT_ON_ERROR = "TARGET_FIELD_NAME_INTERRUPT_ON_ERROR"


_TARGET_SORT = {
    TargetFieldName.UNSPECIFIED: T.c.created_at, TargetFieldName.ID: T.c.id,
    TargetFieldName.CREATED_DATE: T.c.created_at, TargetFieldName.CHANGED_DATE: T.c.changed_at,
    TargetFieldName.NAME: T.c.name, TargetFieldName.TARGET_TYPE: T.c.target_type, TargetFieldName.URL: T.c.endpoint,
    TargetFieldName.TIMEOUT: T.c.timeout_ms, TargetFieldName.INTERRUPT_ON_ERROR: T.c.interrupt_on_error,
}


def _text_method(value: Any) -> Any:
    """filter.v2 TextFilterMethod (`TEXT_FILTER_METHOD_*`) onto the v1 names lists.py knows."""
    if isinstance(value, str) and value.startswith("TEXT_FILTER_METHOD_"):
        return "TEXT_QUERY_METHOD_" + value.removeprefix("TEXT_FILTER_METHOD_")
    return value


class TargetNameFilter(ApiModel):
    target_name: Annotated[str, Field(max_length=200)] = ""
    method: Annotated[Method, BeforeValidator(_text_method)] = TextQueryMethod.EQUALS


class InTargetIdsFilter(ApiModel):
    target_ids: tuple[str, ...] = ()


class TargetSearchFilter(ApiModel):
    target_name_filter: TargetNameFilter | None = None
    in_target_ids_filter: InTargetIdsFilter | None = None


class ListTargetsRequest(ApiModel):
    pagination: ListQuery | None = None
    query: ListQuery | None = None  # v2beta
    sorting_column: Annotated[TargetFieldName, enum_in(TargetFieldName)] = TargetFieldName.UNSPECIFIED
    filters: tuple[TargetSearchFilter, ...] = ()


class PaginationResponse(ApiModel):
    total_result: Int64 = 0
    applied_limit: Int64 = 0


class ListTargetsResponse(ApiModel):
    pagination: PaginationResponse | None = None
    targets: tuple[TargetModel, ...] = ()


class ListTargetsResponseBeta(ApiModel):
    details: PaginationResponse | None = None
    result: tuple[TargetModel, ...] = ()


def _target_model(target: Target, signing_key: str = "") -> TargetModel:
    kinds: dict[str, Any] = {
        TargetType.WEBHOOK: {"rest_webhook": RestWebhook(interrupt_on_error=target.interrupt_on_error)},
        TargetType.CALL: {"rest_call": RestCall(interrupt_on_error=target.interrupt_on_error)},
        TargetType.ASYNC: {"rest_async": RestAsync()},
    }
    return TargetModel(id=target.id, creation_date=target.created_at, change_date=target.changed_at,
                       name=target.name, timeout=target.timeout, endpoint=target.endpoint, signing_key=signing_key,
                       **kinds[target.type])


@api.post("/targets", "CreateTarget", permission="action.target.write")
@beta.post("/targets", "CreateTarget", permission="action.target.write")
async def create_target(call: Call, req: CreateTargetRequest) -> CreateTargetResponse:
    """Create a target; its signing key is answered this once."""
    req.check_payload_type("CreateTarget")
    kind = req.target_type("CreateTarget", required=True)
    assert kind is not None
    target, key = await ops.create_target(call.services, call.editor, NewTarget(
        name=req.name, type=kind[0], endpoint=req.endpoint, timeout=req.timeout or timedelta(0),
        interrupt_on_error=kind[1]))
    return CreateTargetResponse(id=target.id, creation_date=target.created_at, signing_key=key)


@api.post("/targets/{id}", "UpdateTarget", permission="action.target.write")
@beta.post("/targets/{id}", "UpdateTarget", permission="action.target.write")
async def update_target(call: Call, req: UpdateTargetRequest) -> UpdateTargetResponse:
    """Change the fields given; `expirationSigningKey` (only `0s`) makes a new signing key at once."""
    if req.expiration_signing_key is not None and req.expiration_signing_key != timedelta(0):
        raise invalid("invalid UpdateTargetRequest.ExpirationSigningKey: value must equal 0s")
    req.check_payload_type("UpdateTarget")
    kind = req.target_type("UpdateTarget", required=False)
    change = store.Change(name=req.name, type=kind[0] if kind else None,
                          interrupt_on_error=kind[1] if kind else None, endpoint=req.endpoint, timeout=req.timeout,
                          rotate_key=req.expiration_signing_key is not None)
    changed, key = await ops.update_target(call.services, call.editor, req.id, change)
    return UpdateTargetResponse(change_date=changed, signing_key=key or "")


@api.delete("/targets/{id}", "DeleteTarget", permission="action.target.delete")
@beta.delete("/targets/{id}", "DeleteTarget", permission="action.target.delete")
async def delete_target(call: Call, req: TargetIdRequest) -> DeleteTargetResponse:
    """Delete a target and take it out of the executions; an unknown id answers no date."""
    return DeleteTargetResponse(deletion_date=await ops.delete_target(call.services, call.editor, req.id))


@api.get("/targets/{id}", "GetTarget", permission="action.target.read")
@beta.get("/targets/{id}", "GetTarget", permission="action.target.read")
async def get_target(call: Call, req: TargetIdRequest) -> GetTargetResponse:
    """A target with its current signing key."""
    target, key = await ops.get_target(call.services, req.id)
    return GetTargetResponse(target=_target_model(target, key))


async def _list_targets(call: Call, req: ListTargetsRequest) -> tuple[lists.Page, list[TargetModel]]:
    query = store.select_targets()
    for f in req.filters:
        if f.target_name_filter is not None:
            query = query.where(lists.text_condition(T.c.name, f.target_name_filter.target_name,
                                                     f.target_name_filter.method))
        if f.in_target_ids_filter is not None:
            query = query.where(T.c.id.in_(list(f.in_target_ids_filter.target_ids)))
    async with call.store.read() as conn:
        page = await lists.page(conn, query, req.pagination or req.query, call.store.clock(), default_order=T.c.id,
                                sort_column=_TARGET_SORT[req.sorting_column])
        keys = await ops.signing_keys(conn, call.services, [row.id for row in page.rows])
    return page, [_target_model(store.target_of(row), keys[row.id]) for row in page.rows]


def _pagination(page: lists.Page, q: ListQuery | None) -> PaginationResponse:
    limit = q.limit if q and 0 < q.limit <= lists.MAX_LIMIT else lists.MAX_LIMIT
    return PaginationResponse(total_result=page.total, applied_limit=limit)


@api.post("/targets/search", "ListTargets", permission="action.target.read")
async def list_targets(call: Call, req: ListTargetsRequest) -> ListTargetsResponse:
    """Search the targets by name or ids."""
    page, targets = await _list_targets(call, req)
    return ListTargetsResponse(pagination=_pagination(page, req.pagination), targets=tuple(targets))


@beta.post("/targets/search", "ListTargets", permission="action.target.read")
async def list_targets_beta(call: Call, req: ListTargetsRequest) -> ListTargetsResponseBeta:
    """Search the targets by name or ids (v2beta shape)."""
    page, targets = await _list_targets(call, req)
    return ListTargetsResponseBeta(details=_pagination(page, req.query), result=tuple(targets))


# --- executions --------------------------------------------------------------------------------

class CallCondition(ApiModel):
    method: Annotated[str, Field(max_length=1000)] = ""
    service: Annotated[str, Field(max_length=1000)] = ""
    all: bool = False


class FunctionCondition(ApiModel):
    name: Annotated[str, Field(max_length=1000)] = ""


class EventCondition(ApiModel):
    event: Annotated[str, Field(max_length=1000)] = ""
    group: Annotated[str, Field(max_length=1000)] = ""
    all: bool = False


class ConditionModel(ApiModel):
    request: CallCondition | None = None
    response: CallCondition | None = None
    function: FunctionCondition | None = None
    event: EventCondition | None = None


def _condition_id(c: ConditionModel) -> str:
    """The execution id a condition is stored under; exactly one kind and one value."""
    given = [(kind, value) for kind, value in
             (("request", c.request), ("response", c.response), ("function", c.function), ("event", c.event))
             if value is not None]
    if len(given) != 1:
        raise invalid("invalid SetExecutionRequest.Condition: exactly one condition type is required")
    kind, value = given[0]
    if isinstance(value, FunctionCondition):
        return ops.function_condition(value.name)
    if isinstance(value, CallCondition):
        return ops.call_condition(kind, value.method, value.service, value.all)
    assert isinstance(value, EventCondition)
    return ops.event_condition(value.event, value.group, value.all)


def _condition_model(condition: str) -> ConditionModel:
    kind, _, value = condition.partition("/")
    if kind == "function":
        return ConditionModel(function=FunctionCondition(name=value))
    if kind == "event":
        if not value:
            return ConditionModel(event=EventCondition(all=True))
        if value.endswith(".*"):
            return ConditionModel(event=EventCondition(group=value.removesuffix(".*")))
        return ConditionModel(event=EventCondition(event=value))
    if not value:
        call_condition = CallCondition(all=True)
    elif "/" in value:
        call_condition = CallCondition(method="/" + value)
    else:
        call_condition = CallCondition(service=value)
    return ConditionModel(**{kind: call_condition})


def _target_refs(value: Any) -> Any:
    """v2beta writes `[{"target": "<id>"}]`, v2 `["<id>"]`; an include is not served."""
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, dict):
                if "target" not in item:
                    raise ValueError("only targets may be listed, includes are not supported")
                item = item["target"]
            out.append(item)
        return out
    return value


class SetExecutionRequest(ApiModel):
    condition: ConditionModel | None = None
    targets: Annotated[tuple[Annotated[str, Field(min_length=1, max_length=200)], ...],
                       BeforeValidator(_target_refs)] = ()


class SetExecutionResponse(ApiModel):
    set_date: Timestamp | None = None


@api.put("/executions", "SetExecution", permission="action.execution.write")
@beta.put("/executions", "SetExecution", permission="action.execution.write")
async def set_execution(call: Call, req: SetExecutionRequest) -> SetExecutionResponse:
    """Set the ordered targets of a condition; no targets removes the execution."""
    if req.condition is None:
        raise invalid("invalid SetExecutionRequest.Condition: value is required")
    condition = _condition_id(req.condition)
    return SetExecutionResponse(set_date=await ops.set_execution(call.services, call.editor, condition,
                                                                 list(req.targets)))


class ExecutionFieldName(enum.StrEnum):
    UNSPECIFIED = "EXECUTION_FIELD_NAME_UNSPECIFIED"
    ID = "EXECUTION_FIELD_NAME_ID"
    CREATED_DATE = "EXECUTION_FIELD_NAME_CREATED_DATE"
    CHANGED_DATE = "EXECUTION_FIELD_NAME_CHANGED_DATE"


class ExecutionType(enum.StrEnum):
    UNSPECIFIED = "EXECUTION_TYPE_UNSPECIFIED"
    REQUEST = "EXECUTION_TYPE_REQUEST"
    RESPONSE = "EXECUTION_TYPE_RESPONSE"
    EVENT = "EXECUTION_TYPE_EVENT"
    FUNCTION = "EXECUTION_TYPE_FUNCTION"


class InConditionsFilter(ApiModel):
    conditions: tuple[ConditionModel, ...] = ()


class ExecutionTypeFilter(ApiModel):
    execution_type: Annotated[ExecutionType, enum_in(ExecutionType)] = ExecutionType.UNSPECIFIED


class TargetFilter(ApiModel):
    target_id: str = ""


class ExecutionSearchFilter(ApiModel):
    in_conditions_filter: InConditionsFilter | None = None
    execution_type_filter: ExecutionTypeFilter | None = None
    target_filter: TargetFilter | None = None


class ListExecutionsRequest(ApiModel):
    pagination: ListQuery | None = None
    query: ListQuery | None = None  # v2beta
    sorting_column: Annotated[ExecutionFieldName, enum_in(ExecutionFieldName)] = ExecutionFieldName.UNSPECIFIED
    filters: tuple[ExecutionSearchFilter, ...] = ()


class ExecutionModel(ApiModel):
    condition: ConditionModel | None = None
    creation_date: Timestamp | None = None
    change_date: Timestamp | None = None
    targets: tuple[str, ...] = ()


class TargetRef(ApiModel):
    target: str = ""


class ExecutionModelBeta(ApiModel):
    condition: ConditionModel | None = None
    creation_date: Timestamp | None = None
    change_date: Timestamp | None = None
    targets: tuple[TargetRef, ...] = ()


class ListExecutionsResponse(ApiModel):
    pagination: PaginationResponse | None = None
    executions: tuple[ExecutionModel, ...] = ()


class ListExecutionsResponseBeta(ApiModel):
    details: PaginationResponse | None = None
    result: tuple[ExecutionModelBeta, ...] = ()


def _matches(execution: Execution, f: ExecutionSearchFilter) -> bool:
    if f.in_conditions_filter is not None:
        wanted = {_condition_id(c) for c in f.in_conditions_filter.conditions}
        if execution.condition not in wanted:
            return False
    if f.execution_type_filter is not None and f.execution_type_filter.execution_type != ExecutionType.UNSPECIFIED:
        kind = f.execution_type_filter.execution_type.removeprefix("EXECUTION_TYPE_").lower()
        if execution.condition.partition("/")[0] != kind:
            return False
    return f.target_filter is None or f.target_filter.target_id in execution.targets


_EXECUTION_SORT: dict[ExecutionFieldName, str] = {
    ExecutionFieldName.UNSPECIFIED: "created_at", ExecutionFieldName.ID: "condition",
    ExecutionFieldName.CREATED_DATE: "created_at", ExecutionFieldName.CHANGED_DATE: "changed_at",
}


async def _list_executions(call: Call, req: ListExecutionsRequest) -> tuple[int, int, list[Execution]]:
    """Executions are few (one per condition): filtered and paged in memory, so a target filter
    needs no JSON containment query that SQLite and PostgreSQL would spell differently."""
    async with call.store.read() as conn:
        rows = (await conn.execute(store.select_executions())).all()
    found = [e for e in map(store.execution_of, rows) if all(_matches(e, f) for f in req.filters)]
    q = req.pagination or req.query or ListQuery()
    field = _EXECUTION_SORT[req.sorting_column]
    found.sort(key=lambda e: (getattr(e, field), e.condition), reverse=not q.asc)
    limit = q.limit if 0 < q.limit <= lists.MAX_LIMIT else lists.MAX_LIMIT
    return len(found), limit, found[q.offset:q.offset + limit]


@api.post("/executions/search", "ListExecutions", permission="action.execution.read")
async def list_executions(call: Call, req: ListExecutionsRequest) -> ListExecutionsResponse:
    """Search the executions by conditions, type or target."""
    total, limit, found = await _list_executions(call, req)
    return ListExecutionsResponse(
        pagination=PaginationResponse(total_result=total, applied_limit=limit),
        executions=tuple(ExecutionModel(condition=_condition_model(e.condition), creation_date=e.created_at,
                                        change_date=e.changed_at, targets=e.targets) for e in found))


@beta.post("/executions/search", "ListExecutions", permission="action.execution.read")
async def list_executions_beta(call: Call, req: ListExecutionsRequest) -> ListExecutionsResponseBeta:
    """Search the executions (v2beta shape)."""
    total, limit, found = await _list_executions(call, req)
    return ListExecutionsResponseBeta(
        details=PaginationResponse(total_result=total, applied_limit=limit),
        result=tuple(ExecutionModelBeta(condition=_condition_model(e.condition), creation_date=e.created_at,
                                        change_date=e.changed_at, targets=tuple(TargetRef(target=i) for i in e.targets))
                     for e in found))


class ListExecutionFunctionsResponse(ApiModel):
    functions: tuple[str, ...] = ()


class ListExecutionMethodsResponse(ApiModel):
    methods: tuple[str, ...] = ()


class ListExecutionServicesResponse(ApiModel):
    services: tuple[str, ...] = ()


@api.get("/executions/functions", "ListExecutionFunctions", permission="authenticated")
@beta.get("/executions/functions", "ListExecutionFunctions", permission="authenticated")
async def list_execution_functions(call: Call, req: Empty) -> ListExecutionFunctionsResponse:
    """The functions a function condition may name."""
    return ListExecutionFunctionsResponse(functions=ops.FUNCTIONS)


@api.get("/executions/methods", "ListExecutionMethods", permission="authenticated")
@beta.get("/executions/methods", "ListExecutionMethods", permission="authenticated")
async def list_execution_methods(call: Call, req: Empty) -> ListExecutionMethodsResponse:
    """The API methods a request or response condition may name (`/<service>/<method>`)."""
    return ListExecutionMethodsResponse(methods=ops.methods())


@api.get("/executions/services", "ListExecutionServices", permission="authenticated")
@beta.get("/executions/services", "ListExecutionServices", permission="authenticated")
async def list_execution_services(call: Call, req: Empty) -> ListExecutionServicesResponse:
    """The API services a request or response condition may name."""
    return ListExecutionServicesResponse(services=ops.services())

