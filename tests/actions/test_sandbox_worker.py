"""The sandbox's worker process on its own: it never outlives the server, even after a script V8
cannot interrupt (a huge `fill` keeps the isolate busy after its timeout)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bergfried.actions.sandbox import Sandbox, Script, ScriptFailed, _Worker

DATA: dict[str, Any] = {
    "claims": {}, "user": {}, "userMetadata": {"count": 0, "metadata": []}, "grants": {"count": 0, "grants": []},
    "grantOrgMetadata": {}, "emptyMetadata": {"count": 0, "metadata": []},
    "orgMetadata": {"count": 0, "metadata": []}, "clientId": "c",
}


def _ended(worker: _Worker, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if worker.proc.poll() is not None:
            return True
        time.sleep(0.05)
    worker.kill()
    return False


@pytest.mark.rule("issue 8: no worker outlives the server")
@pytest.mark.parametrize("body", ["", "while (true) {}", "new Array(1e9).fill(0);"])
def test_worker_ends_when_the_server_goes_away(body: str) -> None:
    worker = _Worker()
    worker.exchange({"name": "a", "script": f"function a(ctx, api) {{ {body} }}", "data": DATA, "timeout": 0.2}, 2)
    assert worker.proc.stdin is not None
    worker.proc.stdin.close()
    assert _ended(worker)


@pytest.mark.rule("issue 8: a worker retires after a timeout; the next script runs in a new one")
def test_pool_replaces_a_retired_worker() -> None:
    pool = Sandbox(size=1)
    try:
        with pytest.raises(ScriptFailed, match=r"timeout after 0\.2s"):
            pool.run_blocking(Script("a", "function a(ctx, api) { while (true) {} }", 0.2), DATA)
        calls = pool.run_blocking(Script("b", "function b(ctx, api) { api.v1.claims.setClaim('k', 1); }", 2), DATA)
        assert calls == [["claim", "k", 1]]
    finally:
        pool.close()
