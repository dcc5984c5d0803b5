"""Members (manager roles) and OIDC/API applications on both engines."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bergfried.domain.apps import (
    ApiAuthMethodType,
    AppKind,
    AppType,
    AuthMethodType,
    GrantType,
    OIDCConfig,
    ResponseType,
)
from bergfried.domain.members import MemberLevel
from bergfried.errors import AlreadyExists, InvalidArgument
from bergfried.store import apps, members
from bergfried.store import tables as t
from bergfried.store.tx import Store
from tests.factories import make_org, make_project, make_user, make_web_app


@pytest.mark.rule("spec/roles-and-permissions.md")
async def test_members_add_list_by_user_and_object_and_remove(store: Store) -> None:
    org = await make_org(store)
    project = await make_project(store, org)
    alice, bob = await make_user(store, org, password=None), await make_user(store, org, password=None)
    async with store.write() as tx:
        details = await members.add(tx, MemberLevel.ORG, org.id, alice.id, ["ORG_OWNER", "ORG_OWNER"], org_id=org.id)
        await members.add(tx, MemberLevel.PROJECT, project.id, alice.id, ["PROJECT_OWNER"], org_id=org.id)
        await members.add(tx, MemberLevel.ORG, org.id, bob.id, ["ORG_USER_MANAGER"], org_id=org.id)
        await members.add(tx, MemberLevel.INSTANCE, "instance-1", bob.id, ["IAM_OWNER"], org_id=None)
    assert details.resource_owner == org.id
    async with store.read() as conn:
        of_alice = await members.of_user(conn, alice.id)
        of_org = await members.of_object(conn, MemberLevel.ORG, org.id)
        of_instance = await members.of_object(conn, MemberLevel.INSTANCE, "instance-1")
    assert {(m.level, m.object_id, m.roles) for m in of_alice} == {
        (MemberLevel.ORG, org.id, ("ORG_OWNER",)), (MemberLevel.PROJECT, project.id, ("PROJECT_OWNER",))}
    assert {(m.user_id, m.roles) for m in of_org} == {(alice.id, ("ORG_OWNER",)), (bob.id, ("ORG_USER_MANAGER",))}
    assert [(m.user_id, m.roles) for m in of_instance] == [(bob.id, ("IAM_OWNER",))]
    with pytest.raises(AlreadyExists):
        async with store.write() as tx:
            await members.add(tx, MemberLevel.ORG, org.id, alice.id, ["ORG_OWNER_VIEWER"], org_id=org.id)
    async with store.write() as tx:
        await members.remove(tx, MemberLevel.ORG, org.id, alice.id, org_id=org.id)
    async with store.read() as conn:
        assert [m.level for m in await members.of_user(conn, alice.id)] == [MemberLevel.PROJECT]
        assert [m.user_id for m in await members.of_object(conn, MemberLevel.ORG, org.id)] == [bob.id]


@pytest.mark.rule("spec/roles-and-permissions.md")
async def test_a_role_invalid_for_the_level_is_an_invalid_argument(store: Store) -> None:
    org = await make_org(store)
    user = await make_user(store, org, password=None)
    cases: list[tuple[MemberLevel, list[str]]] = [
        (MemberLevel.ORG, ["IAM_OWNER"]),
        (MemberLevel.INSTANCE, ["ORG_OWNER"]),
        (MemberLevel.PROJECT, ["PROJECT_GRANT_OWNER"]),
        (MemberLevel.ORG, ["ORG_OWNER", "NO_SUCH_ROLE"]),
        (MemberLevel.PROJECT, []),
    ]
    for level, roles in cases:
        with pytest.raises(InvalidArgument) as caught:
            async with store.write() as tx:
                await members.add(tx, level, org.id, user.id, roles, org_id=org.id)
        assert caught.value.key == "Errors.Member.Invalid", (level, roles)
    async with store.read() as conn:
        assert await members.of_user(conn, user.id) == []


@pytest.mark.rule("seed 000 (client id `…@docs-claims`), spec/management-api.md §7")
async def test_add_oidc_gives_a_client_id_of_app_id_at_project_name_and_keeps_only_the_secret_hash(
    store: Store,
) -> None:
    org = await make_org(store)
    project = await make_project(store, org, "portal")
    config = OIDCConfig(redirect_uris=("https://portal.example.com/cb",),
                        grant_types=(GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN),
                        post_logout_redirect_uris=("https://portal.example.com/bye",),
                        id_token_userinfo_assertion=True, additional_origins=("https://other.example.com",))
    app = await make_web_app(store, project, "portal-web", config=config, secret_hash="keyed-hash")
    assert app.client_id == f"{app.id}@portal"
    assert app.has_secret
    async with store.read() as conn:
        found = await apps.find_by_client_id(conn, app.client_id)
        missing = await apps.find_by_client_id(conn, "123@portal")
        by_id = await apps.find(conn, app.id)
        listed = await apps.list_for_project(conn, project.id)
    assert found is not None
    loaded, secret_hash = found
    assert secret_hash == "keyed-hash"
    assert loaded == app == by_id
    assert loaded.oidc == config
    assert missing is None
    assert [a.id for a in listed] == [app.id]


@pytest.mark.rule("spec/management-api.md §7")
async def test_update_oidc_config_replaces_the_config_and_recomputes_compliance(store: Store) -> None:
    org = await make_org(store)
    project = await make_project(store, org)
    app = await make_web_app(store, project)
    new_config = OIDCConfig(
        redirect_uris=("myapp://callback", "http://127.0.0.1/cb"), app_type=AppType.NATIVE,
        auth_method_type=AuthMethodType.NONE, response_types=(ResponseType.CODE,),
        grant_types=(GrantType.AUTHORIZATION_CODE,), dev_mode=True,
    )
    async with store.write() as tx:
        details = await apps.update_oidc_config(tx, app, new_config)
    assert details.change_date is not None
    async with store.read() as conn:
        loaded = await apps.find(conn, app.id)
        problems = (await conn.execute(sa.select(t.applications.c.compliance_problems)
                                       .where(t.applications.c.id == app.id))).scalar_one()
    assert loaded is not None
    assert loaded.oidc == new_config
    assert loaded.client_id == app.client_id
    assert problems == []


@pytest.mark.rule("spec/management-api.md §7")
async def test_compliance_problems_of_an_accepted_app_are_stored(store: Store) -> None:
    org = await make_org(store)
    project = await make_project(store, org)
    config = OIDCConfig(redirect_uris=("http://spa.example.com/cb",), app_type=AppType.USER_AGENT,
                        auth_method_type=AuthMethodType.BASIC)
    app = await make_web_app(store, project, config=config)
    async with store.read() as conn:
        problems = (await conn.execute(sa.select(t.applications.c.compliance_problems)
                                       .where(t.applications.c.id == app.id))).scalar_one()
    assert problems == ["Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb",
                        "Application.OIDC.V1.UserAgent.AuthMethodType.NotNone"]
    with pytest.raises(InvalidArgument) as caught:  # a hard rule, not a compliance warning
        await make_web_app(store, project, config=OIDCConfig(response_types=(ResponseType.ID_TOKEN,)))
    assert caught.value.key == "Errors.Project.App.Invalid"


@pytest.mark.rule("spec/management-api.md §7")
async def test_api_app_secret_change_and_remove(store: Store) -> None:
    org = await make_org(store)
    project = await make_project(store, org, "api project")
    async with store.write() as tx:
        app, _ = await apps.add_api(tx, project, "backend", ApiAuthMethodType.BASIC, secret_hash="first")
    assert app.client_id == f"{app.id}@api_project"
    async with store.write() as tx:
        await apps.set_secret(tx, app, "second")
    async with store.read() as conn:
        found = await apps.find_by_client_id(conn, app.client_id)
        by_name = await apps.find_by_name(conn, project.id, "backend")
    assert found is not None
    assert found[1] == "second"
    assert found[0].kind == AppKind.API
    assert found[0].api_auth_method_type == ApiAuthMethodType.BASIC
    assert by_name is not None
    assert by_name.id == app.id
    async with store.write() as tx:
        await apps.remove(tx, app)
    async with store.read() as conn:
        assert await apps.find(conn, app.id) is None
        assert await apps.find_by_client_id(conn, app.client_id) is None
