"""One world for the management API tests, on SQLite and PostgreSQL, driven through the ASGI app:

- first start (bootstrap) with a PAT file: the instance, its default organization and the machine
  user with IAM_OWNER whose token the seed guide uses (`iam_pat`);
- organization ACME with a human user `road.runner` and a machine user, an ORG_OWNER (`owner`),
  and a member whose role grants none of the API's permissions here (`weak`, ORG_PROJECT_CREATOR);
- organization Other with its own ORG_OWNER (`other_owner`) and a user of its own.
Callers are machine users with personal access tokens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bergfried import services as services_module
from bergfried.bootstrap import bootstrap
from bergfried.crypto.hashing import generate_secret
from bergfried.domain.instance import Instance
from bergfried.domain.members import MemberLevel
from bergfried.domain.orgs import Org
from bergfried.domain.users import HumanUser, MachineUser
from bergfried.services import Services
from bergfried.store import credentials, members
from bergfried.web.app import create_app
from tests.conftest import make_settings
from tests.factories import make_machine, make_org, make_user
from tests.web.conftest import serving


@dataclass
class World:
    client: httpx.AsyncClient
    services: Services
    instance: Instance
    iam_pat: str  # the first start's PAT (IAM_OWNER)
    acme: Org
    other: Org
    user: HumanUser  # road.runner in ACME
    machine: MachineUser  # a machine user in ACME
    other_user: HumanUser  # a user of Other
    owner: str  # PAT of an ORG_OWNER of ACME
    weak: str  # PAT of an ACME member without user/org permissions
    other_owner: str  # PAT of an ORG_OWNER of Other

    async def call(self, method: str, path: str, token: str | None = None, *, json: Any = None,
                   org: str | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = dict(headers or {})
        if token is not None:
            sent["authorization"] = f"Bearer {token}"
        if org is not None:
            sent["x-zitadel-orgid"] = org
        return await self.client.request(method, path, json=json, headers=sent)


async def member_with_pat(services: Services, org: Org, roles: list[str]) -> str:
    machine = await make_machine(services.store, org)
    token = generate_secret()
    async with services.store.write() as tx:
        await members.add(tx, MemberLevel.ORG, org.id, machine.id, roles, org_id=org.id)
        await credentials.add_pat(tx, machine, services.hasher.hash(token))
    return token


@pytest.fixture
async def world(engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[World]:
    async with AsyncExitStack() as stack:
        yield await open_world(stack, engine, tmp_path)


async def open_world(stack: AsyncExitStack, engine: AsyncEngine, tmp_path: Path) -> World:
    """Build the world; its client stays open until `stack` closes."""
    pat_path = tmp_path / "pat.txt"
    services = services_module.build(make_settings(tmp_path, firstinstance_patpath=str(pat_path)), engine=engine)
    result = await bootstrap(services)
    store = services.store
    acme, other = await make_org(store, "ACME"), await make_org(store, "Other")
    user = await make_user(store, acme, "road.runner", password=None)
    machine = await make_machine(store, acme, "robot")
    other_user = await make_user(store, other, "coyote", password=None)
    owner = await member_with_pat(services, acme, ["ORG_OWNER"])
    weak = await member_with_pat(services, acme, ["ORG_PROJECT_CREATOR"])
    other_owner = await member_with_pat(services, other, ["ORG_OWNER"])
    client = await stack.enter_async_context(serving(create_app(services.settings, prebuilt=services)))
    return World(client=client, services=services, instance=result.instance,
                 iam_pat=pat_path.read_text().strip(), acme=acme, other=other, user=user, machine=machine,
                 other_user=other_user, owner=owner, weak=weak, other_owner=other_owner)


def error_of(response: httpx.Response) -> tuple[int, int, str]:
    """(HTTP status, gRPC code, message) of a ZITADEL error answer."""
    body = response.json()
    return response.status_code, body["code"], body["message"]
