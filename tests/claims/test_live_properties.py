"""The same property against the live provider on both databases (hypothesis over scopes and the
clients' settings): through real HTTP answers no claim appears that its cell forbids, and every
claim whose cell requires it and whose value the world's user has is there."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bergfried.claims import scopes as sc
from bergfried.claims.context import client_settings
from bergfried.claims.matrix import ROLE_ROWS, ROWS, Destination, When
from tests.claims.cells import present
from tests.claims.test_assembler_properties import oracle
from tests.claims.world import Scenario, World

pytestmark = pytest.mark.asyncio(loop_scope="module")

POOL = ["profile", "email", "phone", "address", sc.METADATA, sc.RESOURCEOWNER, f"{sc.ROLE_PREFIX}admin",
        f"{sc.ROLE_PREFIX}user", sc.PROJECTS_ROLES]
VALUE_DEPENDS = {When.NONCE, When.ACTOR, When.BESIDE}


@pytest.mark.rule("issue 5: live answers never carry a forbidden claim nor miss a required one")
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(app=st.sampled_from(["plain", "full", "bare", "asserting"]),
       scopes=st.lists(st.sampled_from(POOL), unique=True, max_size=5))
async def test_live_cells_hold(world: World, app: str, scopes: list[str]) -> None:
    scope = " ".join(["openid", *scopes])
    payloads = await world.payloads(Scenario(app, scope))
    async with world.services.store.read() as conn:
        client = await client_settings(conn, world.clients[app].app)
    kept = tuple(payloads.by_destination[Destination.INTROSPECTION]["scope"].split())  # the token's scopes
    for destination in Destination:
        payload = payloads.by_destination[destination]
        for row in ROWS:
            allowed = oracle(row, destination, kept, client, "code")
            if not allowed:
                assert not present(payload, row), f"{app} {scope}: {row.claim} forbidden in {destination}"
            elif row.cell(destination).when not in VALUE_DEPENDS and row not in ROLE_ROWS:
                assert present(payload, row), f"{app} {scope}: {row.claim} required in {destination}"
