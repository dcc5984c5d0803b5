from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.processes import fresh_postgres_database


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database of its own (not a schema): what a user points
    `bergfried` at. Dropped afterwards."""
    async with fresh_postgres_database() as url:
        yield url
