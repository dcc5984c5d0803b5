"""Schemathesis against the served OpenAPI document: generated requests for every operation, sent
as the first start's IAM_OWNER through the ASGI app, never answer 5xx and always answer ZITADEL's
error JSON when they fail (issue 6, item 7).

Hypothesis drives synchronous test functions, while the app and its database engine live on an
event loop; so the world runs on a loop in a background thread and each case is sent there."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy.ext.asyncio import AsyncEngine

from bergfried.store.migrate import migrate
from tests.api.conftest import World, open_world
from tests.conftest import ENGINES, Database
from tests.fuzz.profile import examples

T = TypeVar("T")
EXAMPLES = examples(6)  # per operation and engine: keeps the test short on a busy machine (tests/fuzz/profile.py)


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


async def _open(stack: AsyncExitStack, kind: str, tmp_path: Path) -> World:
    db = Database(kind, tmp_path)
    await db.create()
    stack.push_async_callback(db.drop)
    engine: AsyncEngine = db.engine()
    stack.push_async_callback(engine.dispose)
    await migrate(engine)
    return await open_world(stack, engine, tmp_path)


@pytest.mark.parametrize("kind", ENGINES)
def test_generated_requests_never_get_a_server_error(kind: str, tmp_path: Path) -> None:
    runner = LoopThread()
    stack = AsyncExitStack()
    try:
        world = runner.run(_open(stack, kind, tmp_path))
        document = runner.run(world.client.get("/openapi/v2/swagger/openapi.json")).json()
        schema = schemathesis.openapi.from_dict(document)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 40
        statuses: set[int] = set()
        for operation in operations:
            _check(runner, world, operation, statuses)
        assert {200, 400, 404} <= statuses, statuses  # the generated requests reached the handlers
    finally:
        runner.run(stack.aclose())
        runner.stop()


def _check(runner: LoopThread, world: World, operation: Any, statuses: set[int]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        sent = case.as_transport_kwargs(base_url="http://testserver",
                                        headers={"authorization": f"Bearer {world.iam_pat}"})
        request = {k: sent[k] for k in ("method", "url", "headers", "params") if k in sent}
        if "json" in sent:
            request["json"] = sent["json"]
        elif sent.get("data") is not None:
            request["content"] = sent["data"]
        response = runner.run(world.client.request(**request))
        statuses.add(response.status_code)
        assert response.status_code < 500, (case.as_curl_command(), response.text)
        if response.status_code >= 400:
            body = response.json()
            assert isinstance(body["code"], int), response.text
            assert isinstance(body["message"], str), response.text

    check()
