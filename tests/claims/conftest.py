"""The claims tests share one world per module and engine (tests/claims/world.py): building it
and running each scenario once keeps the matrix's hundreds of cells cheap."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.claims.world import World, open_world
from tests.conftest import ENGINES


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=ENGINES)
async def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async for opened in open_world(request.param, tmp_path_factory.mktemp("claims")):
        yield opened
