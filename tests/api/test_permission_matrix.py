"""Every declared endpoint, table-driven: no token → 401, a member whose roles lack the permission
→ 403, the ORG_OWNER of another organization acting on this one → 404 `membership not found`
(spec/management-api.md §2, spec/roles-and-permissions.md §2; ZITADEL's `getUserPermissions`)."""

from __future__ import annotations

import re

import pytest

from bergfried.api import registry
from bergfried.api.permissions import AUTHENTICATED
from bergfried.domain.members import ROLE_PERMISSIONS
from tests.api.conftest import World

WEAK_ROLE = "ORG_PROJECT_CREATOR"  # the role of `world.weak`
PARAM = re.compile(r"{([A-Za-z_]+)(?::path)?}")


def _path(endpoint: registry.Endpoint, world: World) -> str:
    values = {"id": world.user.id, "userId": world.machine.id, "key": "k", "domain": "acme.localhost"}
    return PARAM.sub(lambda m: values.get(m.group(1), "1"), endpoint.path)


async def _send(world: World, endpoint: registry.Endpoint, token: str | None,
                org: str | None = None) -> tuple[int, int]:
    response = await world.call(endpoint.method, _path(endpoint, world), token,
                                json={} if endpoint.method != "GET" else None, org=org)
    return response.status_code, response.json()["code"]


@pytest.mark.rule("spec/management-api.md §2 (401, 404 membership), spec/roles-and-permissions.md §2.4 (403)")
async def test_every_endpoint_checks_authentication_and_permissions(world: World) -> None:
    endpoints = registry.load()
    assert len(endpoints) >= 40
    failures = []
    for endpoint in endpoints:
        expected: list[tuple[str | None, str | None, tuple[int, int]]] = [(None, None, (401, 16))]
        if endpoint.permission != AUTHENTICATED:
            expected.append((world.other_owner, world.acme.id, (404, 5)))
            if endpoint.permission not in ROLE_PERMISSIONS[WEAK_ROLE]:
                expected.append((world.weak, None, (403, 7)))
        for token, org, want in expected:
            got = await _send(world, endpoint, token, org)
            if got != want:
                failures.append(f"{endpoint.method} {endpoint.path} ({endpoint.rpc}): {got} != {want}")
    assert failures == []
