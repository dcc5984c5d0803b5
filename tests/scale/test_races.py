"""Issue 11 §2: 50 concurrent redemptions of one credential give exactly one success where one is
right, and the losers issue nothing; on SQLite and PostgreSQL through two in-process apps with an
engine each, and on PostgreSQL across the two real processes A and B (25 requests each)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from bergfried.web.app import create_app
from tests.conftest import Database
from tests.oidc.conftest import Resources, clock, movable_services, other_process, res  # noqa: F401
from tests.scale.conftest import Pair, World
from tests.scale.races import RACES, Arena
from tests.web.conftest import serving

Race = Callable[[Arena], Awaitable[None]]


@pytest.fixture
async def in_process(res: Resources, database: Database, tmp_path: Path) -> AsyncIterator[Arena]:  # noqa: F811
    """The test app and a second app over its own engine: two workers on one database."""
    other, engine = await other_process(database, tmp_path)
    try:
        async with serving(create_app(other.settings, prebuilt=other)) as other_client:
            yield Arena((res.client, other_client), res.services, res.user, res.web, res.web_secret)
    finally:
        await engine.dispose()


@pytest.fixture
async def across_processes(pair: Pair, world: World) -> AsyncIterator[Arena]:
    async with httpx.AsyncClient(base_url=pair.a.base_url, timeout=60) as a, \
            httpx.AsyncClient(base_url=pair.b.base_url, timeout=60) as b:
        yield Arena((a, b), world.services, world.user, world.web, world.web_secret)


@pytest.mark.rule("issue 11 §2: 50 concurrent redemptions, two apps on one database (SQLite and PostgreSQL)")
@pytest.mark.parametrize("race", list(RACES.values()), ids=list(RACES))
async def test_fifty_at_once_in_process(in_process: Arena, race: Race) -> None:
    await race(in_process)


@pytest.mark.e2e
@pytest.mark.rule("issue 11 §2: 50 concurrent redemptions split between the processes A and B on PostgreSQL")
@pytest.mark.parametrize("race", list(RACES.values()), ids=list(RACES))
async def test_fifty_at_once_across_processes(across_processes: Arena, race: Race) -> None:
    await race(across_processes)
