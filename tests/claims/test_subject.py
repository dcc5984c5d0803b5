"""The subject behind userinfo and introspection loads in one statement (ARCHITECTURE.md: hot
paths do at most 2 indexed queries; issue 10 §3): user, organization, metadata, grants, the
action flags and the client's settings."""

from __future__ import annotations

import pytest

from bergfried.claims import subject
from bergfried.domain.metadata import Metadata
from bergfried.store import metadata
from bergfried.store.tx import Store
from tests.factories import make_org, make_user
from tests.statements import selects


@pytest.mark.rule("ARCHITECTURE.md property 4: at most 2 indexed queries on a hot path")
async def test_subject_loads_in_one_statement(store: Store) -> None:
    org = await make_org(store, "ACME")
    user = await make_user(store, org, "road.runner", password=None)
    async with store.write() as tx:
        await metadata.set_many(tx, user, [Metadata("contract", b"1234"), Metadata("tier", b"gold")])
    with selects(store.engine) as statements:
        async with store.read() as conn:
            loaded = await subject.load(conn, user.id, must_be_domain=True)
    assert loaded is not None
    assert loaded.org.name == "ACME"
    assert loaded.preferred_username == f"road.runner@{org.primary_domain}"
    assert loaded.metadata == {"contract": b"1234", "tier": b"gold"}
    assert loaded.grants == ()
    assert loaded.actions_v1 == frozenset()
    assert loaded.actions_v2 == frozenset()
    assert len(statements) == 1, statements


async def test_everything_loaded_with_the_subject_is_what_the_tables_hold(store: Store) -> None:
    """Binary and long metadata values survive the JSON aggregation (PostgreSQL's base64 wraps
    lines at 76 characters), grants keep their order and their org's domain, the action flags
    follow the organization's triggers and the instance's executions, and the client's settings
    come from its application and project."""
    from bergfried.claims.roles import load_grants
    from bergfried.domain import actions as actions_domain
    from bergfried.domain.apps import OIDCConfig, TokenType
    from bergfried.store import actions, grants, tables
    from tests.factories import make_project, make_web_app

    org, other = await make_org(store, "ACME"), await make_org(store, "Other")
    user = await make_user(store, org, password=None)
    values = {"bin": bytes(range(256)), "long": b"x" * 500, "empty-ish": b"0", "utf8": "Grüße".encode()}
    project = await make_project(store, org, roles=("admin", "user"))
    shared = await make_project(store, other, roles=("viewer",))
    app = await make_web_app(store, project, config=OIDCConfig(
        redirect_uris=("https://app.example.com/cb",), access_token_type=TokenType.JWT,
        id_token_role_assertion=True))
    async with store.write() as tx:
        await metadata.set_many(tx, user, [Metadata(key, value) for key, value in values.items()])
        await grants.add_user_grant(tx, user, project, ["user", "admin"])
        await grants.add_user_grant(tx, user, shared, ["viewer"])
        action_id, _ = await actions.add(tx, org.id, actions_domain.ActionSpec(name="a", script="function a(){}"))
        await actions.set_trigger(tx, org.id, actions_domain.COMPLEMENT_TOKEN.id,
                                  actions_domain.PRE_ACCESS_TOKEN.id, [action_id])
        await tx.conn.execute(tables.executions.insert().values(  # only its existence counts here
            condition="function/preuserinfo", targets=["1"], created_at=tx.now, changed_at=tx.now))
    async with store.read() as conn:
        loaded, client = await subject.load_for_client(conn, user.id, app.client_id, must_be_domain=False)
        expected_grants = await load_grants(conn, user.id, (project.id, shared.id))
        _, nobody = await subject.load_for_client(conn, user.id, "no-such-client", must_be_domain=False)
    assert loaded is not None
    assert client is not None
    assert loaded.metadata == dict(sorted(values.items()))
    assert loaded.grants == expected_grants
    assert [(g.project_id, g.org_primary_domain, set(g.role_keys)) for g in loaded.grants] == [
        (project.id, org.primary_domain, {"user", "admin"}), (shared.id, other.primary_domain, {"viewer"})]
    assert loaded.actions_v1 == {actions_domain.PRE_ACCESS_TOKEN.id}
    assert loaded.actions_v2 == {actions_domain.PRE_USERINFO.id}
    assert (client.client_id, client.project_id) == (app.client_id, project.id)
    assert client.jwt_access_token
    assert client.id_token_role_assertion
    assert not client.access_token_role_assertion
    assert nobody is None


async def test_unknown_or_removed_user_has_no_subject(store: Store) -> None:
    from bergfried.store import users

    org = await make_org(store)
    user = await make_user(store, org, password=None)
    async with store.write() as tx:
        await users.remove(tx, user)
    async with store.read() as conn:
        assert await subject.load(conn, user.id, must_be_domain=True) is None
        assert await subject.load(conn, "404", must_be_domain=True) is None
