"""Feature v2: the instance feature that turns token exchange on."""

from __future__ import annotations

import pytest

from bergfried.store import instances
from tests.api.conftest import World, error_of

PATH = "/v2/features/instance"


@pytest.mark.rule("feature.v2 SetInstanceFeatures/GetInstanceFeatures: oidcTokenExchange (spec/token-exchange.md §1); "
                  "iam.feature.* only for instance members")
async def test_token_exchange_feature(world: World) -> None:
    unset = (await world.call("GET", PATH, world.iam_pat)).json()
    assert unset["oidcTokenExchange"] == {"source": "SOURCE_SYSTEM"}  # enabled false is omitted (protojson)
    changed = await world.call("PUT", PATH, world.iam_pat, json={"oidcTokenExchange": True})
    assert changed.status_code == 200, changed.text
    assert changed.json()["details"]["resourceOwner"] == world.instance.id
    assert (await world.call("GET", PATH, world.iam_pat)).json()["oidcTokenExchange"] == \
        {"enabled": True, "source": "SOURCE_INSTANCE"}
    async with world.services.store.read() as conn:
        assert await instances.feature_enabled(conn, instances.TOKEN_EXCHANGE_FEATURE) is True
    assert (await world.call("PUT", PATH, world.iam_pat, json={})).status_code == 200  # nothing given, nothing changes
    async with world.services.store.read() as conn:
        assert await instances.feature_enabled(conn, instances.TOKEN_EXCHANGE_FEATURE) is True
    assert error_of(await world.call("PUT", PATH, world.owner, json={"oidcTokenExchange": False}))[:2] == (403, 7)
