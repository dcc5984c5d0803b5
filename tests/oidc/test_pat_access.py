"""Personal access tokens wherever an access token is accepted: userinfo, introspection, the
management API; revoked by deleting them (spec/other-grants.md §4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.oidc.conftest import Resources, basic, bearer
from tests.oidc.machines import INTROSPECT, USERINFO, deactivate, make_machine, pat


async def _introspect(res: Resources, token: str, client_id: str, secret: str) -> dict[str, object]:
    answer = await res.client.post(INTROSPECT, data={"token": token}, headers=basic(client_id, secret))
    assert answer.status_code == 200
    body: dict[str, object] = answer.json()
    return body


@pytest.mark.rule("spec/other-grants.md §4: a PAT is a bearer token at userinfo (fixed scope openid profile …), "
                  "at introspection by any API (its caller joins the audience) and at the management API")
async def test_pat_is_an_access_token(res: Resources) -> None:
    machine = await make_machine(res)
    _, token = await pat(res, machine)
    info = await res.client.get(USERINFO, headers=bearer(token))
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == machine.id
    assert info.json()["preferred_username"].startswith(machine.username)  # the profile scope
    for client_id, secret in ((res.api.client_id, res.api_secret), (res.foreign_api.client_id, res.foreign_secret)):
        introspected = await _introspect(res, token, client_id, secret)
        assert introspected["active"] is True
        assert introspected["sub"] == machine.id
        audience = introspected["aud"]
        assert isinstance(audience, list)
        assert client_id in audience
        assert "client_id" not in introspected  # a PAT has no client (ZITADEL omits the empty value)
    api = await res.client.get(f"/management/v1/users/{machine.id}", headers=bearer(machine.owner))
    assert api.status_code == 200
    own = await res.client.get("/management/v1/orgs/me", headers=bearer(token))
    assert own.status_code != 401  # authenticated; the robot itself has no membership


@pytest.mark.rule("spec/other-grants.md §4: deleting the PAT revokes it everywhere; RFC 7009 revocation does not "
                  "(a PAT has no issuing client: 'token was not issued for this client')")
async def test_pat_revoked_by_deletion(res: Resources) -> None:
    machine = await make_machine(res)
    token_id, token = await pat(res, machine)
    revoked = await res.client.post("/oauth/v2/revoke", data={"token": token},
                                    headers=basic(res.api.client_id, res.api_secret))
    assert revoked.json()["error"] == "invalid_client"
    assert (await res.client.get(USERINFO, headers=bearer(token))).status_code == 200
    deleted = await res.client.delete(f"/management/v1/users/{machine.id}/pats/{token_id}",
                                      headers=machine.headers())
    assert deleted.status_code == 200
    info = await res.client.get(USERINFO, headers=bearer(token))
    assert (info.status_code, info.json()["error"]) == (401, "invalid_token")
    assert await _introspect(res, token, res.api.client_id, res.api_secret) == {"active": False}
    assert (await res.client.get("/management/v1/orgs/me", headers=bearer(token))).status_code == 401


@pytest.mark.rule("spec/other-grants.md §4: a PAT past its expirationDate, or of a deactivated user, is no "
                  "access token")
async def test_expired_pat_and_inactive_user(res: Resources) -> None:
    machine = await make_machine(res)
    soon = (res.clock() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _, expiring = await pat(res, machine, soon)
    _, lasting = await pat(res, machine)
    assert (await res.client.get(USERINFO, headers=bearer(expiring))).status_code == 200
    res.clock.advance(timedelta(hours=2))
    assert (await res.client.get(USERINFO, headers=bearer(expiring))).status_code == 401
    assert await _introspect(res, expiring, res.api.client_id, res.api_secret) == {"active": False}
    assert (await res.client.get(USERINFO, headers=bearer(lasting))).status_code == 200
    await deactivate(res, machine)
    assert (await res.client.get(USERINFO, headers=bearer(lasting))).status_code == 401
    assert await _introspect(res, lasting, res.api.client_id, res.api_secret) == {"active": False}


@pytest.mark.rule("spec/other-grants.md §4 (zitadel assertClientScopesForPAT): at introspection the caller's "
                  "project's role keys become the PAT's role scopes, so the machine user's roles there show")
async def test_pat_carries_the_callers_project_roles(res: Resources) -> None:
    from bergfried.store import grants, projects, users

    machine = await make_machine(res)
    _, token = await pat(res, machine)
    async with res.services.store.write() as tx:
        user = await users.get(tx.conn, machine.id)
        await grants.add_user_grant(tx, user, await projects.get(tx.conn, res.api.project_id), ["admin"])
    introspected = await _introspect(res, token, res.api.client_id, res.api_secret)
    assert introspected["active"] is True
    roles = introspected["urn:zitadel:iam:org:project:roles"]
    assert isinstance(roles, dict)
    assert set(roles) == {"admin"}
    assert "urn:zitadel:iam:org:project:role:admin" in str(introspected["scope"]).split()
    foreign = await _introspect(res, token, res.foreign_api.client_id, res.foreign_secret)
    assert "urn:zitadel:iam:org:project:roles" not in foreign
