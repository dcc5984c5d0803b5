"""The §3.4 payload (spec/actions.md) built from a real subject: Go's snake_case keys, enums as
numbers, metadata as standard base64, empty values left out; humans and machines."""

from __future__ import annotations

import base64

import pytest

from bergfried.actions.v2 import payload
from bergfried.claims import subject as subject_loader
from bergfried.claims.context import ClientSettings, Context, RoleGrant, TokenFacts
from bergfried.domain.metadata import Metadata
from bergfried.domain.users import HumanUser
from bergfried.store import metadata
from bergfried.store.tx import Store
from tests.factories import make_machine, make_org, make_user

SQLITE_ONLY = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def _ctx(subject: subject_loader.Subject, grants: tuple[RoleGrant, ...] = ()) -> Context:
    return Context(subject=subject, scopes=("openid",), client=ClientSettings(client_id="app@acme", project_id="p1"),
                   token=TokenFacts(issuer="https://id.example.com", client_id="app@acme", audience=("app@acme",),
                                    issued_at=1, expires_at=2), grants=grants)


@pytest.mark.rule("spec/actions.md §3.4: payload of a human with metadata and grants")
@SQLITE_ONLY
async def test_human_payload(store: Store) -> None:
    org = await make_org(store, "ACME")
    user = await make_user(store, org, "road.runner")
    async with store.write() as tx:
        await metadata.set_for(tx, metadata.of_user(user), [Metadata("ContractNumber", b"1234")])
    async with store.read() as conn:
        subject = await subject_loader.load(conn, user.id, must_be_domain=False)
    assert subject is not None
    grant = RoleGrant(project_id="p1", org_id=org.id, org_primary_domain=org.primary_domain, role_keys=("admin",))
    body = payload.build("preaccesstoken", _ctx(subject, (grant,)), {"sub": user.id})
    assert body["function"] == "function/preaccesstoken"
    assert body["userinfo"] == {"sub": user.id}
    assert isinstance(subject.user, HumanUser)
    human = dict(body["user"]["human"])
    assert human.pop("password_changed", "2").endswith("Z")  # RFC 3339 in UTC when set
    assert human == {
        "first_name": "Road", "last_name": "Runner", "display_name": "Road Runner", "gender": 0,
        "email": "road.runner@example.com", "is_email_verified": True, "is_phone_verified": False,
        "password_change_required": False}
    assert (body["user"]["state"], body["user"]["type"], body["user"]["username"]) == (1, 1, "road.runner")
    assert body["user"]["preferred_login_name"] == body["user"]["login_names"][0]
    assert body["user_metadata"] == [{"key": "ContractNumber", "value": base64.b64encode(b"1234").decode(),
                                      "resource_owner": org.id}]
    [sent] = body["user_grants"]
    assert (sent["roles"], sent["project_id"], sent["user_id"], sent["user_type"]) == (["admin"], "p1", user.id, 1)
    assert body["application"] == {"client_id": "app@acme"}


@pytest.mark.rule("spec/actions.md §3.4: a machine user has `machine`, type 2, and no empty lists")
@SQLITE_ONLY
async def test_machine_payload(store: Store) -> None:
    org = await make_org(store)
    machine = await make_machine(store, org, "robot")
    async with store.read() as conn:
        subject = await subject_loader.load(conn, machine.id, must_be_domain=False)
    assert subject is not None
    body = payload.build("function/preuserinfo", _ctx(subject), {})
    assert body["function"] == "function/preuserinfo"
    assert body["user"]["type"] == 2
    assert body["user"]["machine"] == {"name": "A machine", "access_token_type": 0}
    assert "human" not in body["user"]
    assert "user_metadata" not in body
    assert "user_grants" not in body
    assert body["userinfo"] == {}
