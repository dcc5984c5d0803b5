"""`grant_type=client_credentials` for machine users (RFC 6749 §4.4; spec/other-grants.md §1)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from sqlalchemy import event

from bergfried.store import fast
from tests.oidc.conftest import Resources, basic, bearer, unverified
from tests.oidc.machines import INTROSPECT, TOKEN, USERINFO, deactivate, make_machine, secret


def _aud(res: Resources) -> str:
    return f"urn:zitadel:iam:org:project:id:{res.api.project_id}:aud"


@pytest.mark.rule("spec/other-grants.md §1: client_id = the machine user's login name, its secret; Authlib's client; "
                  "no refresh token even with offline_access, no ID token; audience from the …:aud scope")
async def test_client_credentials_with_authlib(res: Resources) -> None:
    machine = await make_machine(res)
    client_id, client_secret = await secret(res, machine)
    async with AsyncOAuth2Client(client_id, client_secret, scope=f"openid profile offline_access {_aud(res)}",
                                 token_endpoint_auth_method="client_secret_basic",
                                 transport=res.client._transport, base_url="http://testserver") as client:
        token = await client.fetch_token(TOKEN, grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] > 0
    assert "refresh_token" not in token
    assert "id_token" not in token
    access = token["access_token"]
    assert access.count(".") != 2  # the machine user's default: an opaque token
    introspected = (await res.client.post(INTROSPECT, data={"token": access},
                                          headers=basic(res.api.client_id, res.api_secret))).json()
    assert introspected["active"] is True
    assert introspected["sub"] == machine.id
    assert introspected["client_id"] == machine.username
    assert res.api.project_id in introspected["aud"]
    info = await res.client.get(USERINFO, headers=bearer(access))
    assert info.status_code == 200
    assert info.json()["sub"] == machine.id


@pytest.mark.rule("spec/other-grants.md §1: form fields work too; without an …:aud scope no API finds the "
                  "token active")
async def test_client_secret_post_and_no_audience(res: Resources) -> None:
    machine = await make_machine(res)
    client_id, client_secret = await secret(res, machine)
    answer = await res.client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": client_id,
                                                "client_secret": client_secret, "scope": "openid"})
    assert answer.status_code == 200
    introspected = await res.client.post(INTROSPECT, data={"token": answer.json()["access_token"]},
                                         headers=basic(res.api.client_id, res.api_secret))
    assert introspected.json() == {"active": False}


@pytest.mark.rule("spec/other-grants.md §1: the access token type is the machine user's accessTokenType (JWT), "
                  "client_id claim = user name, amr = [pwd]")
async def test_jwt_access_token_type(res: Resources) -> None:
    machine = await make_machine(res, "jwt-svc", jwt=True)
    client_id, client_secret = await secret(res, machine)
    answer = await res.client.post(TOKEN, data={"grant_type": "client_credentials", "scope": f"openid {_aud(res)}"},
                                   headers=basic(client_id, client_secret))
    assert answer.status_code == 200, answer.text
    _, claims = unverified(answer.json()["access_token"])
    assert claims["sub"] == machine.id
    assert claims["client_id"] == machine.username
    assert res.api.project_id in claims["aud"]
    assert claims["iss"] == res.services.settings.issuer
    introspected = (await res.client.post(INTROSPECT, data={"token": answer.json()["access_token"]},
                                          headers=basic(res.api.client_id, res.api_secret))).json()
    assert introspected["active"] is True
    assert introspected["amr"] == ["pwd"]


@pytest.mark.rule("spec/other-grants.md §1 errors (endpoints.md §6): unknown user → 400 invalid_client "
                  "'client not found'; wrong secret → invalid_request Errors.User.Machine.Secret.Invalid; no secret → "
                  "Errors.User.Machine.Secret.NotExisting")
async def test_rejections(res: Resources) -> None:
    machine = await make_machine(res)
    client_id, client_secret = await secret(res, machine)

    async def attempt(cid: str, sec: str) -> tuple[int, dict[str, str]]:
        answer = await res.client.post(TOKEN, data={"grant_type": "client_credentials", "scope": "openid"},
                                       headers=basic(cid, sec))
        return answer.status_code, answer.json()

    status, body = await attempt("nobody@nowhere.localhost", client_secret)
    assert (status, body["error"], body["error_description"]) == (400, "invalid_client", "client not found")
    human = f"{res.user.username}@acme.localhost"
    status, body = await attempt(human, client_secret)
    assert (status, body["error"]) == (400, "invalid_client")
    status, body = await attempt(client_id, client_secret + "x")
    assert (status, body["error"], body["error_description"]) == (
        400, "invalid_request", "Errors.User.Machine.Secret.Invalid")
    assert (await res.client.delete(f"/management/v1/users/{machine.id}/secret",
                                    headers=machine.headers())).status_code == 200
    status, body = await attempt(client_id, client_secret)
    assert (status, body["error"], body["error_description"]) == (
        400, "invalid_request", "Errors.User.Machine.Secret.NotExisting")


@pytest.mark.rule("spec/other-grants.md §1: a deactivated machine user gets no token; a request commits fully or "
                  "not at all")
async def test_inactive_machine_user(res: Resources) -> None:
    machine = await make_machine(res)
    client_id, client_secret = await secret(res, machine)
    await deactivate(res, machine)
    answer = await res.client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": client_id,
                                                "client_secret": client_secret})
    assert answer.status_code == 400
    assert answer.json()["error"] in ("invalid_client", "invalid_grant")


@pytest.mark.rule("RFC 6749 §2.3.1: the Basic halves are form-URL-encoded (the login name's @ as %40)")
async def test_basic_halves_are_url_encoded(res: Resources) -> None:
    machine = await make_machine(res)
    client_id, client_secret = await secret(res, machine)
    assert "%40" in quote(client_id, safe="")
    answer = await res.client.post(TOKEN, data={"grant_type": "client_credentials"},
                                   headers=basic(client_id, client_secret))
    assert answer.status_code == 200


@pytest.mark.rule("RFC 8414 §2: grant_types_supported names the machine grants the token endpoint serves")
async def test_discovery_lists_machine_grants(res: Resources) -> None:
    supported = (await res.client.get("/.well-known/openid-configuration")).json()["grant_types_supported"]
    assert "client_credentials" in supported
    assert "urn:ietf:params:oauth:grant-type:jwt-bearer" in supported


@pytest.mark.rule("spec/other-grants.md §1 roles: role claims use the projects of the …:aud scopes; the machine "
                  "user has no own project, so only urn:zitadel:iam:org:project:{projectid}:roles is emitted")
async def test_roles_of_the_audience_project(res: Resources) -> None:
    from bergfried.store import grants, projects, users

    machine = await make_machine(res)
    client_id, client_secret = await secret(res, machine)
    async with res.services.store.write() as tx:
        user = await users.get(tx.conn, machine.id)
        await grants.add_user_grant(tx, user, await projects.get(tx.conn, res.api.project_id), ["admin"])
    scope = f"openid urn:zitadel:iam:org:project:role:admin {_aud(res)}"
    answer = await res.client.post(TOKEN, data={"grant_type": "client_credentials", "scope": scope},
                                   headers=basic(client_id, client_secret))
    assert answer.status_code == 200, answer.text
    info = (await res.client.get(USERINFO, headers=bearer(answer.json()["access_token"]))).json()
    prefixed = f"urn:zitadel:iam:org:project:{res.api.project_id}:roles"
    assert set(info[prefixed]) == {"admin"}
    assert "urn:zitadel:iam:org:project:roles" not in info


@pytest.mark.rule("spec/other-grants.md §1 scope: unknown scopes and org scopes of another organization are "
                  "dropped silently; offline_access is ignored")
async def test_scope_filter(res: Resources) -> None:
    machine = await make_machine(res)
    client_id, client_secret = await secret(res, machine)
    own, foreign = f"urn:zitadel:iam:org:id:{machine.org_id}", f"urn:zitadel:iam:org:id:{res.user.org_id}"
    scope = f"openid offline_access made:up {own} {foreign} {_aud(res)}"
    answer = await res.client.post(TOKEN, data={"grant_type": "client_credentials", "scope": scope},
                                   headers=basic(client_id, client_secret))
    assert answer.status_code == 200, answer.text
    introspected = (await res.client.post(INTROSPECT, data={"token": answer.json()["access_token"]},
                                          headers=basic(res.api.client_id, res.api_secret))).json()
    granted = introspected["scope"].split()
    assert own in granted
    assert "openid" in granted
    assert foreign not in granted
    assert "made:up" not in granted
    assert "offline_access" not in granted


@pytest.mark.rule("spec/other-grants.md §1 side effect: a successful secret check is recorded "
                  "(user.machine.secret.check.succeeded); a failed request writes nothing")
async def test_secret_check_recorded(res: Resources) -> None:
    from tests.factories import events_after, latest_sequence

    machine = await make_machine(res)
    client_id, client_secret = await secret(res, machine)
    before = await latest_sequence(res.services.store)
    failed = await res.client.post(TOKEN, data={"grant_type": "client_credentials"},
                                   headers=basic(client_id, client_secret + "x"))
    assert failed.status_code == 400
    assert await events_after(res.services.store, before, aggregate_id=machine.id) == []
    answer = await res.client.post(TOKEN, data={"grant_type": "client_credentials"},
                                   headers=basic(client_id, client_secret))
    assert answer.status_code == 200
    events = await events_after(res.services.store, before, aggregate_id=machine.id)
    assert [e.event_type for e in events] == ["user.machine.secret.check.succeeded"]
    assert events[0].aggregate_id == machine.id


@pytest.mark.rule("issue 10 §3: at most 2 indexed queries on each hot path")
@pytest.mark.parametrize("jwt", [False, True], ids=["opaque", "jwt"])
async def test_one_read_and_one_write(res: Resources, jwt: bool) -> None:
    """The machine user comes with everything its claims need and its secret's hash in one read;
    the event and the token are one write, on PostgreSQL without BEGIN and COMMIT."""
    machine = await make_machine(res, f"counted-{jwt}", jwt=jwt)
    client_id, client_secret = await secret(res, machine)
    data = {"grant_type": "client_credentials", "scope": f"openid profile {_aud(res)}"}
    assert (await res.client.post(TOKEN, data=data, headers=basic(client_id, client_secret))).status_code == 200
    sent: list[str] = []

    def every(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    engine = res.services.engine
    event.listen(engine.sync_engine, "before_cursor_execute", every)
    fast.observers.append(sent.append)
    try:
        answer = await res.client.post(TOKEN, data=data, headers=basic(client_id, client_secret))
    finally:
        fast.observers.remove(sent.append)
        event.remove(engine.sync_engine, "before_cursor_execute", every)
    assert answer.status_code == 200, answer.text
    reads = [s for s in sent if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1, reads
    assert "users" in reads[0]
    writes = [s for s in sent if s not in reads]
    if engine.dialect.name == "postgresql":
        assert len(writes) == 1, writes  # WITH w0 AS (INSERT INTO events …), w1 AS (INSERT INTO access_tokens …)
        assert "events" in writes[0]
        assert "access_tokens" in writes[0]
    else:  # SQLite: the two inserts inside its write transaction
        assert len(writes) == 3, writes
        assert writes[0] == "BEGIN IMMEDIATE"
