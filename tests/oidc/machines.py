"""Machine users for the machine grants' tests, made the way an administrator makes them: through
the management API over HTTP (AddMachineUser, GenerateMachineSecret, AddMachineKey,
AddPersonalAccessToken), with an organization owner's PAT."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import httpx

from bergfried.bootstrap import bootstrap
from bergfried.store import instances
from tests.api.conftest import member_with_pat
from tests.factories import make_org
from tests.oidc.conftest import Resources

TOKEN = "/oauth/v2/token"
USERINFO = "/oidc/v1/userinfo"
INTROSPECT = "/oauth/v2/introspect"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass
class Machine:
    id: str
    username: str
    org_id: str
    owner: str  # an ORG_OWNER's PAT in the machine's organization

    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.owner}"}


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def make_machine(res: Resources, username: str = "svc", *, jwt: bool = False) -> Machine:
    async with res.services.store.read() as conn:
        ready = await instances.get(conn) is not None
    if not ready:
        await bootstrap(res.services)  # the management API serves an instance
    org = await make_org(res.services.store)
    owner = await member_with_pat(res.services, org, ["ORG_OWNER"])
    body = {"userName": username, "name": "Service", "accessTokenType":
            "ACCESS_TOKEN_TYPE_JWT" if jwt else "ACCESS_TOKEN_TYPE_BEARER"}
    added = await _ok(await res.client.post("/management/v1/users/machine", json=body,
                                            headers={"authorization": f"Bearer {owner}"}))
    return Machine(id=added["userId"], username=username, org_id=org.id, owner=owner)


async def secret(res: Resources, machine: Machine) -> tuple[str, str]:
    """(clientId, clientSecret) from GenerateMachineSecret."""
    body = await _ok(await res.client.put(f"/management/v1/users/{machine.id}/secret", headers=machine.headers()))
    return body["clientId"], body["clientSecret"]


async def key_file(res: Resources, machine: Machine) -> dict[str, Any]:
    """ZITADEL's JSON key file from AddMachineKey."""
    body = await _ok(await res.client.post(f"/management/v1/users/{machine.id}/keys",
                                           json={"type": "KEY_TYPE_JSON"}, headers=machine.headers()))
    loaded: dict[str, Any] = json.loads(base64.b64decode(body["keyDetails"]))
    return loaded


async def pat(res: Resources, machine: Machine, expiration: str | None = None) -> tuple[str, str]:
    """(tokenId, token) from AddPersonalAccessToken."""
    body = await _ok(await res.client.post(f"/management/v1/users/{machine.id}/pats",
                                           json={"expirationDate": expiration} if expiration else {},
                                           headers=machine.headers()))
    return body["tokenId"], body["token"]


async def deactivate(res: Resources, machine: Machine) -> None:
    await _ok(await res.client.post(f"/management/v1/users/{machine.id}/_deactivate", json={},
                                    headers=machine.headers()))
