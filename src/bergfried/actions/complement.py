"""The complement token flow: custom claims from actions, added after the claims assembler decided
the standard ones (spec/actions.md §1, §2.2, §3.5).

- Trigger "pre userinfo creation" / function `preuserinfo` runs for userinfo, introspection and
  every ID token; "pre access token creation" / `preaccesstoken` only for JWT access tokens.
- Order: the v1 actions of the user's organization, in the trigger's order, then the v2 targets
  of the instance's execution.
- A key starting with `urn:zitadel:iam` is never set. ZITADEL drops it silently; Bergfried drops
  it too and says so in the action's log claim, so a script's author can see why.
- A key an earlier action (or the same one) already set is kept; the attempt adds the log line
  `key "<key>" already exists`. The log lines of an action go into the claim
  `urn:zitadel:iam:action:<name>:log` (v2: `...:function/<function>:log`).
- The assembler's claims win over custom ones of the same name (zitadel/oidc serialises the
  standard fields last); no log line for that, as in ZITADEL.
- A v1 action that throws, runs out of time or memory fails the request (`ActionFailed`, which
  the endpoints answer as `server_error`) unless it is allowed to fail: then the token is issued
  without anything that action did.
- Hot path: whether the trigger has v1 actions in the user's organization or a v2 execution
  comes with the subject (claims/subject.py, no query of its own); when neither, nothing else
  happens.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried import logs
from bergfried.actions import ActionFailed
from bergfried.actions.objects import Loaded, load
from bergfried.actions.sandbox import Script, ScriptFailed, sandbox
from bergfried.claims.context import Context
from bergfried.claims.subject import Subject
from bergfried.domain import actions as domain
from bergfried.domain.actions import Action
from bergfried.domain.metadata import Metadata, validate_key, validate_value
from bergfried.domain.users import User
from bergfried.errors import DomainError, ServerError
from bergfried.services import Services
from bergfried.store import metadata as metadata_store
from bergfried.store import tables as t
from bergfried.store.actions import active_for
from bergfried.store.tx import Tx

log = logs.get(__name__)

RESERVED_PREFIX = "urn:zitadel:iam"
FUNCTIONS = domain.COMPLEMENT_FUNCTIONS


@dataclass(frozen=True, slots=True)
class Outcome:
    claims: dict[str, Any]
    metadata: tuple[tuple[str, bytes], ...] = ()  # user metadata the actions set, not yet written


@dataclass
class _Run:
    """Custom claims and metadata so far; one instance per request."""

    custom: dict[str, Any] = dataclasses.field(default_factory=dict)
    metadata: list[tuple[str, bytes]] = dataclasses.field(default_factory=list)

    def set_claim(self, key: str, value: Any, lines: list[str]) -> None:
        if key.startswith(RESERVED_PREFIX):
            lines.append(f'key "{key}" is reserved and was not set')
        elif key in self.custom:
            lines.append(f'key "{key}" already exists')
        else:
            self.custom[key] = value

    def set_metadata(self, key: str, value: bytes, lines: list[str]) -> None:
        try:
            validate_key(key)
            validate_value(value)
        except DomainError:
            lines.append(f'failed to set user metadata key "{key}"')
            return
        self.metadata.append((key, value))

    def close(self, name: str, lines: list[str]) -> None:
        if lines:
            self.custom[f"urn:zitadel:iam:action:{name}:log"] = lines


def _has_actions(org_id: str, trigger_id: str) -> Any:
    ft = t.flow_triggers
    return sa.exists().where(ft.c.org_id == org_id, ft.c.flow_type == domain.COMPLEMENT_TOKEN.id,
                             ft.c.trigger_type == trigger_id)


async def complement(services: Services, conn: AsyncConnection, trigger: domain.Trigger, ctx: Context,
                     claims: dict[str, Any]) -> Outcome:
    """`claims` as the assembler made them, with the actions' custom claims added."""
    org_id = ctx.subject.user.org_id
    subject = ctx.subject
    if subject.actions_v1 is not None and subject.actions_v2 is not None:  # loaded with the subject
        has_v1, has_v2 = trigger.id in subject.actions_v1, trigger.id in subject.actions_v2
    else:
        flags = (await conn.execute(sa.select(
            sa.exists().where(t.executions.c.condition == f"function/{FUNCTIONS[trigger.id]}"),
            _has_actions(org_id, trigger.id)))).one()
        has_v2, has_v1 = bool(flags[0]), bool(flags[1])
    if not has_v1 and not has_v2:
        return Outcome(claims)
    actions = await active_for(conn, org_id, domain.COMPLEMENT_TOKEN.id, trigger.id) if has_v1 else []
    if not actions and not has_v2:  # only deactivated actions on the trigger
        return Outcome(claims)
    loaded = await load(conn, ctx, claims)
    run = _Run()
    try:
        for action in actions:
            await _run_v1(run, action, loaded, claims)
        if has_v2:
            await _run_v2(services, conn, run, FUNCTIONS[trigger.id], ctx, loaded, claims)
    except ActionFailed as exc:
        # ZITADEL answers errors that are not its own as server_error (spec/actions.md §2.1).
        raise ServerError(str(exc)) from None
    return Outcome(_merged(claims, run.custom), tuple(run.metadata))


def _merged(standard: dict[str, Any], custom: dict[str, Any]) -> dict[str, Any]:
    out = dict(standard)
    for key, value in custom.items():
        out.setdefault(key, value)
    return out


async def _run_v1(run: _Run, action: Action, loaded: Loaded, claims: dict[str, Any]) -> None:
    data = dict(loaded.data, claims=_merged(claims, run.custom))
    script = Script(action.name, action.script, action.limit.total_seconds())
    try:
        calls = await sandbox().run(script, data)
        effects = _read(calls)
    except ScriptFailed as exc:
        log.warning("action_failed", action_id=action.id, action=action.name, reason=str(exc),
                    allowed_to_fail=action.allowed_to_fail)
        if action.allowed_to_fail:
            return
        raise ActionFailed(f'action "{action.name}" failed: {exc}') from None
    lines: list[str] = []
    for effect in effects:
        kind = effect[0]
        if kind == "claim":
            run.set_claim(effect[1], effect[2], lines)
        elif kind == "log":
            lines.append(effect[1])
        elif kind == "metadata":
            run.set_metadata(effect[1], effect[2].encode(), lines)
        else:
            log.info("action_log", action=action.name, level=effect[1], message=effect[2][:1000])
    run.close(action.name, lines)


def _read(calls: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The sandbox's list of api calls, checked for shape: the script could have tampered with it."""
    out: list[tuple[Any, ...]] = []
    for call in calls:
        if not isinstance(call, list) or not call or not all(isinstance(v, str) for v in call[:2]):
            raise ScriptFailed("the action's result could not be read")
        kind = call[0]
        if kind == "claim" and len(call) == 3:
            out.append((kind, call[1], call[2]))
        elif kind == "log" and len(call) == 2:
            out.append((kind, call[1]))
        elif kind == "metadata" and len(call) == 3 and isinstance(call[2], str | None):
            out.append((kind, call[1], call[2] if call[2] is not None else "null"))
        elif kind == "print" and len(call) == 3 and isinstance(call[2], str):
            out.append((kind, call[1], call[2]))
        else:
            raise ScriptFailed("the action's result could not be read")
    return out


async def _run_v2(services: Services, conn: AsyncConnection, run: _Run, function: str, ctx: Context, loaded: Loaded,
                  claims: dict[str, Any]) -> None:
    from bergfried.actions.v2 import payload
    from bergfried.actions.v2.functions import call_function

    subject = dataclasses.replace(ctx.subject, metadata=loaded.metadata)
    full = dataclasses.replace(ctx, subject=subject, grants=loaded.grants)
    result = await call_function(services, function, payload.build(function, full, _merged(claims, run.custom)),
                                 conn=conn)
    lines: list[str] = []
    for key, value in result.set_user_metadata:
        run.set_metadata(key, value, lines)
    for key, value in result.append_claims:
        run.set_claim(key, value, lines)
    lines.extend(result.append_log_claims)
    run.close(f"function/{function}", lines)


async def save_metadata(tx: Tx, user: User, entries: Sequence[tuple[str, bytes]]) -> None:
    """Write what `api.v1.user.setMetadata` (or a v2 target) set, with its events, in `tx`."""
    if entries:
        await metadata_store.set_many(tx, user, [Metadata(key, value) for key, value in entries])


async def save_metadata_apart(services: Services, subject: Subject, entries: Sequence[tuple[str, bytes]]) -> None:
    """For the read-only endpoints (userinfo, introspection): a write transaction of its own."""
    if entries:
        async with services.store.write(subject.user.id) as tx:
            await save_metadata(tx, subject.user, entries)

