"""Actions v2 function executions (spec/actions.md §3.2–§3.5) called against a live target server,
on SQLite and PostgreSQL: the signature, the payload, the restCall response and its merge, the
webhook and async types, and every way a target can fail with and without interruptOnError."""

from __future__ import annotations

import asyncio
import base64
import time
from datetime import timedelta
from pathlib import Path

import pytest

from bergfried import services as services_module
from bergfried.actions import ActionFailed
from bergfried.actions.v2 import client
from bergfried.actions.v2.client import TargetFailed
from bergfried.actions.v2.functions import FunctionResult, call_function
from bergfried.domain.targets import NewTarget, TargetType
from bergfried.management import actions_v2 as ops
from bergfried.services import Services
from tests.actions_v2.conftest import TargetServer
from tests.conftest import make_settings

# The store is exercised on both engines by the first tests; the HTTP behaviour does not depend
# on it, so the slower failure cases run on SQLite only (a PostgreSQL schema costs ~1.5 s).
SQLITE_ONLY = pytest.mark.parametrize("database", ["sqlite"], indirect=True)
PAYLOAD = {"function": "function/preuserinfo", "userinfo": {"sub": "123", "email": "a@b.c"},
           "application": {"client_id": "app@acme"}}


async def add(services: Services, server: TargetServer, path: str, type_: TargetType, *,
              interrupt: bool = False, seconds: float = 2.0, endpoint: str | None = None) -> str:
    target, key = await ops.create_target(services, "editor", NewTarget(
        name=f"t{path}{time.monotonic_ns()}", type=type_, endpoint=endpoint or server.url(path),
        timeout=timedelta(seconds=seconds), interrupt_on_error=interrupt))
    server.keys[path] = key
    return target.id


async def run(services: Services, *ids: str, function: str = "preuserinfo") -> FunctionResult:
    await ops.set_execution(services, "editor", f"function/{function}", list(ids))
    return await call_function(services, function, PAYLOAD)


@pytest.mark.rule("spec/actions.md §3.3: every call is a signed POST of the JSON payload")
async def test_call_target_is_signed_and_its_answer_is_read(services: Services, target_server: TargetServer) -> None:
    target_server.answer("/call", {
        "set_user_metadata": [{"key": "lastLogin", "value": base64.b64encode(b"2025-08-01").decode()}],
        "append_claims": [{"key": "contract", "value": "1234"}, {"key": "groups", "value": ["a", "b"]}],
        "append_log_claims": ["looked up CRM"],
    })
    tid = await add(services, target_server, "/call", TargetType.CALL)
    result = await run(services, tid)
    assert result == FunctionResult(set_user_metadata=(("lastLogin", b"2025-08-01"),),
                                    append_claims=(("contract", "1234"), ("groups", ["a", "b"])),
                                    append_log_claims=("looked up CRM",))
    [got] = target_server.received
    assert got.signed_ok, got.signature
    assert got.signature.startswith("t=")
    assert ",v1=" in got.signature
    assert got.payload == PAYLOAD


@pytest.mark.rule("spec/actions.md §3.5: a later restCall answer replaces whole lists it names, keeps the others")
@SQLITE_ONLY
async def test_call_answers_merge_key_by_key(services: Services, target_server: TargetServer) -> None:
    target_server.answer("/one", {"append_claims": [{"key": "a", "value": 1}], "append_log_claims": ["one"]})
    target_server.answer("/two", {"append_claims": [{"key": "b", "value": 2}]})
    target_server.answer("/empty", b"")
    ids = [await add(services, target_server, p, TargetType.CALL) for p in ("/one", "/two", "/empty")]
    result = await run(services, *ids)
    assert result.append_claims == (("b", 2),)
    assert result.append_log_claims == ("one",)
    assert [r.path for r in target_server.received] == ["/one", "/two", "/empty"]  # the execution's order


@pytest.mark.rule("spec/actions.md §3.2: a webhook is waited for, its body ignored")
@SQLITE_ONLY
async def test_webhook_body_is_ignored(services: Services, target_server: TargetServer) -> None:
    target_server.answer("/hook", {"append_claims": [{"key": "x", "value": 1}]})
    tid = await add(services, target_server, "/hook", TargetType.WEBHOOK, interrupt=True)
    assert await run(services, tid, function="preaccesstoken") == FunctionResult()
    assert len(target_server.received) == 1
    assert target_server.received[0].signed_ok


@pytest.mark.rule("spec/actions.md §3.2: an async target is not waited for and never affects the request")
@SQLITE_ONLY
async def test_async_target_does_not_block(services: Services, target_server: TargetServer) -> None:
    target_server.delay = 1.0
    slow = await add(services, target_server, "/slow", TargetType.ASYNC, seconds=3)
    target_server.answer("/call", {"append_claims": [{"key": "c", "value": True}]})
    call = await add(services, target_server, "/call", TargetType.CALL)
    started = time.monotonic()
    result = await run(services, slow, call)
    assert time.monotonic() - started < 0.9
    assert result.append_claims == (("c", True),)
    await client.drain()
    assert {r.path for r in target_server.received} == {"/slow", "/call"}
    assert all(r.signed_ok for r in target_server.received)


@pytest.mark.rule("spec/actions.md §3.2: an async target that fails changes nothing")
@SQLITE_ONLY
async def test_failing_async_target_is_only_logged(services: Services, target_server: TargetServer) -> None:
    tid = await add(services, target_server, "/status/500", TargetType.ASYNC)
    assert await run(services, tid) == FunctionResult()
    await client.drain()
    assert len(target_server.received) == 1


@pytest.mark.rule("spec/actions.md §3.2: the timeout ends a slow call; only interruptOnError fails the request")
@pytest.mark.parametrize("interrupt", [True, False])
@SQLITE_ONLY
async def test_slow_target_times_out(services: Services, target_server: TargetServer, interrupt: bool) -> None:
    target_server.delay = 1.5
    slow = await add(services, target_server, "/slow", TargetType.CALL, interrupt=interrupt, seconds=0.3)
    target_server.answer("/after", {"append_log_claims": ["after"]})
    after = await add(services, target_server, "/after", TargetType.CALL)
    started = time.monotonic()
    if interrupt:
        with pytest.raises(ActionFailed):
            await run(services, slow, after)
        assert [r.path for r in target_server.received] == ["/slow"]  # the run stopped there
    else:
        assert (await run(services, slow, after)).append_log_claims == ("after",)
    assert time.monotonic() - started < 1.2


@pytest.mark.rule("spec/actions.md §3.2: network errors, non-2xx and garbage fail only with interruptOnError")
@pytest.mark.parametrize("path", ["/down", "/status/500", "/status/404", "/garbage"])
@SQLITE_ONLY
async def test_failures(services: Services, target_server: TargetServer, path: str) -> None:
    endpoint = "http://127.0.0.1:1/down" if path == "/down" else None  # nothing listens on port 1
    soft = await add(services, target_server, path, TargetType.CALL, endpoint=endpoint)
    assert await run(services, soft) == FunctionResult()
    hard = await add(services, target_server, path, TargetType.CALL, interrupt=True, endpoint=endpoint)
    with pytest.raises(TargetFailed) as failed:
        await run(services, hard)
    assert failed.value.status is None
    assert str(failed.value) == "Errors.Execution.Failed"


@pytest.mark.rule("spec/actions.md §3.5: a restCall answer of the wrong shape is an error with interruptOnError")
@SQLITE_ONLY
async def test_wrong_shape(services: Services, target_server: TargetServer) -> None:
    target_server.answer("/bad", {"append_claims": "not a list"})
    target_server.answer("/b64", {"set_user_metadata": [{"key": "k", "value": "***"}]})
    ids = [await add(services, target_server, p, TargetType.CALL) for p in ("/bad", "/b64")]
    assert await run(services, *ids) == FunctionResult()
    hard = await add(services, target_server, "/b64", TargetType.CALL, interrupt=True)
    with pytest.raises(TargetFailed):
        await run(services, hard)


@pytest.mark.rule("spec/actions.md §3.2: forwardedStatusCode rejects; a 4xx is forwarded, others are a precondition")
@SQLITE_ONLY
async def test_forwarded_status_code(services: Services, target_server: TargetServer) -> None:
    target_server.answer("/deny", {"forwardedStatusCode": 403, "forwardedErrorMessage": "user is blocked"})
    target_server.answer("/odd", {"forwardedStatusCode": 502, "forwardedErrorMessage": "upstream"})
    deny = await add(services, target_server, "/deny", TargetType.WEBHOOK, interrupt=True)
    with pytest.raises(TargetFailed) as failed:
        await run(services, deny)
    assert (failed.value.status, str(failed.value)) == (403, "user is blocked")
    odd = await add(services, target_server, "/odd", TargetType.CALL, interrupt=True)
    with pytest.raises(TargetFailed) as failed:
        await run(services, odd)
    assert (failed.value.status, str(failed.value)) == (None, "upstream")
    soft = await add(services, target_server, "/deny", TargetType.CALL)
    assert await run(services, soft) == FunctionResult()


@pytest.mark.rule("spec/actions.md §3.1: no execution, no call; other conditions are stored but never run here")
async def test_no_execution_no_call(services: Services, target_server: TargetServer) -> None:
    tid = await add(services, target_server, "/call", TargetType.CALL)
    await ops.set_execution(services, "editor", "event/user.human.added", [tid])
    assert await call_function(services, "preuserinfo", PAYLOAD) == FunctionResult()
    await ops.set_execution(services, "editor", "function/preuserinfo", [tid])
    await ops.set_execution(services, "editor", "function/preuserinfo", [])  # empty list removes it
    assert await call_function(services, "preuserinfo", PAYLOAD) == FunctionResult()
    assert target_server.received == []


@pytest.mark.rule("spec/actions.md §3.2: calls do not block the event loop")
@SQLITE_ONLY
async def test_event_loop_stays_free(services: Services, target_server: TargetServer) -> None:
    target_server.delay = 0.5
    tid = await add(services, target_server, "/slow", TargetType.WEBHOOK)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await run(services, tid)
    ticker.cancel()
    assert ticks >= 10


@pytest.mark.rule("Bergfried: a target's answer nested deep enough to exhaust the parser is a failure, never a 500")
@SQLITE_ONLY
async def test_deeply_nested_answer(services: Services, target_server: TargetServer) -> None:
    target_server.answer("/deep", b"[" * 200_000 + b"]" * 200_000)
    soft = await add(services, target_server, "/deep", TargetType.CALL)
    assert await run(services, soft) == FunctionResult()
    hook = await add(services, target_server, "/deep", TargetType.WEBHOOK, interrupt=True)
    assert await run(services, hook) == FunctionResult()  # a webhook's body is only looked at for forwarding
    hard = await add(services, target_server, "/deep", TargetType.CALL, interrupt=True)
    with pytest.raises(TargetFailed):
        await run(services, hard)


@pytest.mark.rule("spec/actions.md §3.2: a signing key that does not open (another master key) fails only that target")
@SQLITE_ONLY
async def test_key_sealed_with_another_master_key(services: Services, target_server: TargetServer,
                                                  tmp_path: Path) -> None:
    soft = await add(services, target_server, "/call", TargetType.CALL)
    other = services_module.build(make_settings(tmp_path, masterkey="f" * 32), engine=services.engine)
    await ops.set_execution(services, "editor", "function/preuserinfo", [soft])
    assert await call_function(other, "preuserinfo", PAYLOAD) == FunctionResult()
    assert target_server.received == []
    hard = await add(services, target_server, "/call", TargetType.CALL, interrupt=True)
    await ops.set_execution(services, "editor", "function/preuserinfo", [hard])
    with pytest.raises(TargetFailed):
        await call_function(other, "preuserinfo", PAYLOAD)


@pytest.mark.rule("Bergfried: at shutdown restAsync calls get a grace period, then are cancelled")
@SQLITE_ONLY
async def test_drain_cancels_after_the_grace_period(services: Services, target_server: TargetServer) -> None:
    target_server.delay = 2.0
    tid = await add(services, target_server, "/slow", TargetType.ASYNC, seconds=5)
    await run(services, tid)
    loop = asyncio.get_running_loop()
    assert any(task.get_loop() is loop for task in client._in_flight)
    started = time.monotonic()
    await client.drain(grace=0.2)
    assert time.monotonic() - started < 1.0
    assert not any(task.get_loop() is loop for task in client._in_flight)
