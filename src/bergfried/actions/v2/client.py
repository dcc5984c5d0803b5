"""One HTTP call to a target (spec/actions.md §3.2, ZITADEL `internal/execution/execution.go`).

- `POST <endpoint>`, `Content-Type: application/json`, the payload as the body, the signature
  header (signing.py); redirects followed, as Go's default client does.
- The target's timeout bounds the whole call (connect, send, wait, read), not each phase.
- 2xx is success, unless the body is `{"forwardedStatusCode", "forwardedErrorMessage"}`: then the
  target rejects the request (a 4xx code is forwarded, anything else becomes a precondition
  failure). Any other status, a network error, a timeout or an oversized body is a failure.
- restAsync calls run as tasks this module holds (so they are not garbage collected mid-flight),
  at most `MAX_IN_FLIGHT` at once: beyond that a call is dropped and logged, so a slow target can
  never pile up unbounded work in the process. They never affect the request that started them.
Failures carry no stack trace or target text to the client; the log gets the reason.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from typing import Any

import httpx

from bergfried import logs
from bergfried.actions import ActionFailed
from bergfried.actions.v2 import signing
from bergfried.store.targets import SignedTarget

log = logs.get(__name__)

MAX_RESPONSE = 1024 * 1024
MAX_IN_FLIGHT = 64
_SSL = ssl.create_default_context()  # built once: a context per call costs milliseconds of CPU
_in_flight: set[asyncio.Task[None]] = set()


class TargetFailed(ActionFailed):
    """A target's call failed. `status` is the HTTP status a target forwarded (400–499), else
    None (ZITADEL: FAILED_PRECONDITION `Errors.Execution.Failed`)."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason  # for the log only


def _failed(reason: str) -> TargetFailed:
    return TargetFailed("Errors.Execution.Failed", reason=reason)


def _forwarded(data: bytes) -> TargetFailed | None:
    try:
        body: Any = json.loads(data)
    except (ValueError, RecursionError):  # not JSON, or nested deep enough to exhaust the stack
        return None
    if not isinstance(body, dict):
        return None
    code, message = body.get("forwardedStatusCode"), body.get("forwardedErrorMessage")
    if not code and not message:
        return None
    status = code if isinstance(code, int) and not isinstance(code, bool) and 400 <= code < 500 else None
    text = message if isinstance(message, str) and message else "Errors.Execution.Failed"
    return TargetFailed(text, status=status, reason=f"forwarded status {code!r}")


async def _read(response: httpx.Response) -> bytes:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE:
            raise _failed("response body too large")
        chunks.append(chunk)
    return b"".join(chunks)


async def post(target: SignedTarget, body: bytes) -> bytes:
    """Call the target and answer its 2xx body; raises TargetFailed otherwise."""
    if target.signing_key is None:
        raise _failed("the signing key does not open with this master key")
    seconds = target.target.timeout.total_seconds()
    headers = {"Content-Type": "application/json",
               signing.HEADER: signing.header(int(time.time()), body, target.signing_key)}
    try:
        async with asyncio.timeout(seconds), httpx.AsyncClient(
                verify=_SSL, timeout=seconds, follow_redirects=True, trust_env=False) as client, \
                client.stream("POST", target.target.endpoint, content=body, headers=headers) as response:
            status, data = response.status_code, await _read(response)
    except TargetFailed:
        raise
    except TimeoutError:
        raise _failed("timeout") from None
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
        raise _failed(type(exc).__name__) from None
    if not 200 <= status <= 299:
        raise _failed(f"status {status}")
    forwarded = _forwarded(data)
    if forwarded is not None:
        raise forwarded
    return data


async def _fire(target: SignedTarget, body: bytes) -> None:
    try:
        await post(target, body)
    except TargetFailed as exc:
        log.info("action_target_async_failed", target_id=target.target.id, reason=exc.reason)
    except Exception:  # never let a background call die loudly
        log.exception("action_target_async_error", target_id=target.target.id)


def fire(target: SignedTarget, body: bytes) -> bool:
    """Start a restAsync call and return at once; False when the call was dropped (too many)."""
    if len(_in_flight) >= MAX_IN_FLIGHT:
        log.warning("action_target_async_dropped", target_id=target.target.id, in_flight=len(_in_flight))
        return False
    task = asyncio.get_running_loop().create_task(_fire(target, body))
    _in_flight.add(task)
    task.add_done_callback(_in_flight.discard)
    return True


async def drain(grace: float | None = None) -> None:
    """Wait for this loop's restAsync calls in flight (shutdown, tests); after `grace` seconds
    the ones still running are cancelled."""
    loop = asyncio.get_running_loop()
    pending = {task for task in _in_flight if task.get_loop() is loop}
    if not pending:
        return
    _, late = await asyncio.wait(pending, timeout=grace)
    for task in late:
        task.cancel()
    if late:
        await asyncio.wait(late)
