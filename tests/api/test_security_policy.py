"""Admin v1 security policy: the setting that allows impersonation by token exchange."""

from __future__ import annotations

import pytest

from bergfried.store import instances
from tests.api.conftest import World, error_of

PATH = "/admin/v1/policies/security"


@pytest.mark.rule("admin.proto GetSecurityPolicy/SetSecurityPolicy: enableImpersonation allows token exchange "
                  "with an actor (spec/token-exchange.md §1, §4); iam.policy.* only for instance members")
async def test_security_policy(world: World) -> None:
    policy = (await world.call("GET", PATH, world.iam_pat)).json()["policy"]
    assert policy.get("enableImpersonation", False) is False
    async with world.services.store.read() as conn:
        assert await instances.impersonation_enabled(conn) is False
    changed = await world.call("PUT", PATH, world.iam_pat,
                               json={"enableImpersonation": True, "allowedOrigins": ["https://a.example.com"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["details"]["resourceOwner"] == world.instance.id
    policy = (await world.call("GET", PATH, world.iam_pat)).json()["policy"]
    assert policy["enableImpersonation"] is True
    assert policy["allowedOrigins"] == ["https://a.example.com"]
    async with world.services.store.read() as conn:
        assert await instances.impersonation_enabled(conn) is True
    assert error_of(await world.call("PUT", PATH, world.owner, json={"enableImpersonation": False}))[:2] == (403, 7)
    assert error_of(await world.call("PUT", PATH, world.iam_pat, json={"enableImpersonation": "maybe"}))[:2] == (400, 3)
