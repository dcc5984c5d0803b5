"""Shortcuts for the project, app, grant and member tests: set things up through the API itself
(plain HTTP, as a script against ZITADEL would) and check ZITADEL error answers in one line."""

from __future__ import annotations

from typing import Any

import httpx

from bergfried.crypto.hashing import generate_secret
from bergfried.domain.members import MemberLevel
from bergfried.domain.orgs import Org
from bergfried.store import credentials, members
from tests.api.conftest import World, error_of
from tests.factories import make_machine

MGMT = "/management/v1"


def expect_error(response: httpx.Response, status: int, code: int, text: str = "") -> None:
    """The answer is ZITADEL's error JSON with this HTTP status, gRPC code and message part."""
    got_status, got_code, message = error_of(response)
    assert (got_status, got_code) == (status, code), response.text
    assert text in message, message


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def add_project(world: World, name: str, roles: tuple[str, ...] = ("admin", "user"),
                      token: str | None = None, **settings: Any) -> str:
    token = token or world.owner
    project_id = str(ok(await world.call("POST", f"{MGMT}/projects", token, json={"name": name, **settings}))["id"])
    if roles:
        ok(await world.call("POST", f"{MGMT}/projects/{project_id}/roles/_bulk", token, json={
            "roles": [{"key": key, "displayName": key.title()} for key in roles]}))
    return project_id


async def machine_pat(world: World, org: Org | None = None) -> tuple[str, str]:
    """A new machine user (of ACME unless `org` says otherwise) with a PAT and no membership yet:
    (user id, PAT)."""
    machine = await make_machine(world.services.store, org or world.acme)
    pat = generate_secret()
    async with world.services.store.write() as tx:
        await credentials.add_pat(tx, machine, world.services.hasher.hash(pat))
    return machine.id, pat


async def project_owner(world: World, project_id: str, roles: tuple[str, ...] = ("PROJECT_OWNER",)) -> str:
    """The PAT of a new ACME machine user who is member of one project only."""
    user_id, pat = await machine_pat(world)
    async with world.services.store.write() as tx:
        await members.add(tx, MemberLevel.PROJECT, project_id, user_id, list(roles), org_id=world.acme.id)
    return pat
