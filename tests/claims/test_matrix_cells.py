"""Every cell of seed 003's claims matrix holds in a live provider: one test per cell and
condition, generated from the matrix data (claims/matrix.py), checked through real HTTP answers
(userinfo, introspection, the ID token and the JWT access token of a code or implicit flow), with
a negative case for each condition. The matrix data itself is checked against the seed's text in
test_matrix_seed.py, so this never checks the matrix against itself alone."""

from __future__ import annotations

import pytest

from bergfried.claims.matrix import Destination
from tests.claims.cells import CASES, Case, present
from tests.claims.world import World

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.rule("seed 003: the claims matrix, cell by cell")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_cell(world: World, case: Case) -> None:
    payloads = await world.payloads(case.scenario)
    payload = payloads.by_destination[case.destination]
    if case.destination == Destination.ACCESS_TOKEN and case.why == "opaque-access-token":
        assert payloads.access_token is not None
        assert payloads.access_token.count(".") != 2  # opaque: it carries no claims at all
    assert present(payload, case.row) is case.expect, (
        f"{case.row.claim} in {case.destination.value} ({case.cell.describe(case.destination)}), "
        f"scenario {case.scenario}: expected {'emitted' if case.expect else 'left out'}; got {sorted(payload)}")
