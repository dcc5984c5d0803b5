"""Generated requests against the action service (v2 and v2beta) never get a server error: the
same property as tests/api/test_schemathesis.py, on these operations only and more examples."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import pytest
import schemathesis

from tests.api.test_schemathesis import LoopThread, _check, _open


@pytest.mark.rule("Bergfried: never a 500 for bad input (ZITADEL error JSON instead)")
def test_action_service_never_answers_a_server_error(tmp_path: Path) -> None:
    runner = LoopThread()
    stack = AsyncExitStack()
    try:
        world = runner.run(_open(stack, "sqlite", tmp_path))
        document = runner.run(world.client.get("/openapi/v2/swagger/openapi.json")).json()
        schema = schemathesis.openapi.from_dict(document)
        operations = [op for op in (r.ok() for r in schema.get_all_operations())
                      if op.path.startswith(("/v2/actions/", "/v2beta/actions/"))]
        assert len(operations) == 20  # ten calls, v2 and v2beta
        statuses: set[int] = set()
        for operation in operations:
            _check(runner, world, operation, statuses)
        assert {200, 400} <= statuses, statuses
    finally:
        runner.run(stack.aclose())
        runner.stop()
