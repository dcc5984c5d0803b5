"""Calling the targets of one function execution (`function/preuserinfo`,
`function/preaccesstoken`) and reading what the restCall targets answer (spec/actions.md §3).

This is the seam between the complement orchestrator (actions/complement.py, v1 then v2) and the
v2 targets: the orchestrator builds the payload (payload.py) and merges the result.

Rules (ZITADEL `internal/execution/execution.go` `CallTargets`):
- targets run in the execution's order; a failing target with interruptOnError stops the run and
  fails the request (`TargetFailed`, an `ActionFailed`); without it the failure is logged and
  the next target runs;
- restWebhook: waited for, body ignored; restAsync: started, never waited for;
- restCall: a 2xx body is read as the function's response (§3.5). Each response is laid over the
  one before key by key, as Go's `json.Unmarshal` into one struct does: a later response that
  has `append_claims` replaces the whole earlier list, one that lacks it keeps it. An empty body
  is skipped; a body that is not such an object is an error only with interruptOnError.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bergfried import logs
from bergfried.actions.v2 import client
from bergfried.actions.v2.client import TargetFailed
from bergfried.domain.targets import TargetType, function_id
from bergfried.services import Services
from bergfried.store import targets as target_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

log = logs.get(__name__)


@dataclass(frozen=True, slots=True)
class FunctionResult:
    """The merged answer of the restCall targets (§3.5), not yet filtered: the orchestrator drops
    reserved keys and duplicates and writes the log claim."""

    set_user_metadata: tuple[tuple[str, bytes], ...] = ()
    append_claims: tuple[tuple[str, Any], ...] = ()
    append_log_claims: tuple[str, ...] = ()


def _metadata(items: Any) -> tuple[tuple[str, bytes], ...]:
    out = []
    for item in items or ():
        if not isinstance(item, dict) or not isinstance(item.get("key", ""), str):
            raise ValueError("set_user_metadata entry")
        value = item.get("value")
        if value is not None and not isinstance(value, str):
            raise ValueError("set_user_metadata value")
        out.append((item.get("key", ""), base64.b64decode(value or "", validate=True)))
    return tuple(out)


def _claims(items: Any) -> tuple[tuple[str, Any], ...]:
    out = []
    for item in items or ():
        if not isinstance(item, dict) or not isinstance(item.get("key", ""), str):
            raise ValueError("append_claims entry")
        out.append((item.get("key", ""), item.get("value")))
    return tuple(out)


def _lines(items: Any) -> tuple[str, ...]:
    if not all(isinstance(line, str) for line in items or ()):
        raise ValueError("append_log_claims entry")
    return tuple(items or ())


_FIELDS = {"set_user_metadata": _metadata, "append_claims": _claims, "append_log_claims": _lines}


def parse(data: bytes, current: FunctionResult) -> FunctionResult:
    """Lay one restCall response over `current`; ValueError when it is not the response format."""
    body = json.loads(data)
    if not isinstance(body, dict):
        raise ValueError("not an object")
    values: dict[str, Any] = {}
    for key, read in _FIELDS.items():
        if key in body:
            if body[key] is not None and not isinstance(body[key], list):
                raise ValueError(key)
            values[key] = read(body[key])
    return FunctionResult(**{key: values.get(key, getattr(current, key)) for key in _FIELDS})


def _sealer(services: Services) -> Any:
    return target_store.sealer(services.master)


async def call_function(services: Services, function: str, payload: Mapping[str, Any], *,
                        conn: AsyncConnection | None = None) -> FunctionResult:
    """Calls every target of the execution `function/<function>` in order. Raises
    `bergfried.actions.ActionFailed` when a target with interruptOnError fails. No execution → an
    empty result after one indexed lookup (the execution's primary key).

    A caller inside a transaction passes its connection: a second connection taken from the pool
    while the first is held can wait on an exhausted pool (the token endpoint under load)."""
    condition = function_id(function.removeprefix("function/"))
    if conn is not None:
        targets = await target_store.targets_for(conn, _sealer(services), condition)
    else:
        async with services.store.read() as own:
            targets = await target_store.targets_for(own, _sealer(services), condition)
    if not targets:
        return FunctionResult()
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    result = FunctionResult()
    for target in targets:
        if target.target.type == TargetType.ASYNC:
            client.fire(target, body)
            continue
        try:
            data = await client.post(target, body)
            if target.target.type == TargetType.CALL and data:
                result = _parsed(data, result)
        except TargetFailed as exc:
            log.warning("action_target_failed", target_id=target.target.id, function=condition, reason=exc.reason,
                        interrupt=target.target.interrupt_on_error)
            if target.target.interrupt_on_error:
                raise
    return result


def _parsed(data: bytes, current: FunctionResult) -> FunctionResult:
    try:
        return parse(data, current)
    except (ValueError, binascii.Error, RecursionError):
        raise TargetFailed("Errors.Execution.Failed", reason="response is not the function's format") from None
