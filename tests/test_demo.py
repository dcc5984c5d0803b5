"""`start --demo`: the world of seed 000 ("User Metadata"), idempotent, on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bergfried import services as services_module
from bergfried.bootstrap import bootstrap
from bergfried.crypto.passwords import verify_password
from bergfried.demo import ensure_demo
from bergfried.domain.apps import AppType, AuthMethodType, GrantType, ResponseType
from bergfried.domain.instance import Instance
from bergfried.domain.users import HumanUser
from bergfried.errors import ConfigError
from bergfried.services import Services
from bergfried.store import apps, grants, metadata, projects, users
from bergfried.store import tables as t
from tests.conftest import make_settings
from tests.factories import count_rows, latest_sequence

SEED = "seeds/000_7981651345d7cb5e.txt"
COUNTED = (t.projects, t.project_roles, t.applications, t.users, t.user_metadata, t.user_grants, t.orgs)


async def _instance(services: Services) -> Instance:
    return (await bootstrap(services)).instance


@pytest.mark.rule(SEED)
async def test_demo_creates_the_user_metadata_guide_world(services: Services) -> None:
    instance = await _instance(services)
    world = await ensure_demo(services, instance)

    async with services.store.read() as conn:
        project = await projects.get(conn, world.project_id)
        roles = await projects.list_roles(conn, project.id)
        found = await apps.find_by_client_id(conn, world.client_id)
        user = await users.get(conn, world.user_id)
        contract = await metadata.get_all(conn, world.user_id)
        user_grants = await grants.list_user_grants(conn, user_id=world.user_id)

    assert (project.name, project.org_id) == ("docs-claims", instance.default_org_id)
    assert [(r.key, r.display_name) for r in roles] == [("admin", "Administrator"), ("user", "User")]

    assert world.client_id.endswith("@docs-claims")
    assert found is not None
    app, secret_hash = found
    assert app.project_id == project.id
    assert app.oidc is not None
    assert app.oidc.redirect_uris == ("http://localhost",)
    assert app.oidc.response_types == (ResponseType.CODE,)
    assert app.oidc.grant_types == (GrantType.AUTHORIZATION_CODE,)
    assert app.oidc.app_type == AppType.WEB
    assert app.oidc.auth_method_type == AuthMethodType.BASIC
    assert app.oidc.id_token_userinfo_assertion is False
    assert world.client_secret is not None
    assert secret_hash is not None
    assert services.hasher.verify(world.client_secret, secret_hash)
    assert not services.hasher.verify(world.client_secret + "x", secret_hash)

    assert isinstance(user, HumanUser)
    assert (user.profile.first_name, user.profile.last_name) == ("Road", "Runner")
    assert user.display_name == "Road Runner"
    assert world.login_name == "road.runner@zitadel.localhost"
    assert verify_password(user.password_hash, world.password)
    assert contract == {"contract": b"1234"}
    assert [(g.project_id, g.role_keys) for g in user_grants] == [(project.id, ("user",))]

    url = world.authorize_url()
    assert url.startswith("http://localhost:8080/oauth/v2/authorize?")
    assert "client_id=" in url
    assert "urn%3Azitadel%3Aiam%3Auser%3Ametadata" in url


@pytest.mark.rule(SEED)
async def test_a_second_demo_run_is_idempotent(services: Services) -> None:
    instance = await _instance(services)
    first = await ensure_demo(services, instance)
    rows = [await count_rows(services.store, table) for table in COUNTED]
    sequence = await latest_sequence(services.store)

    second = await ensure_demo(services, instance)
    assert second.client_secret is None  # shown only on the start that created the app
    assert (second.client_id, second.project_id, second.user_id, second.login_name) == (
        first.client_id, first.project_id, first.user_id, first.login_name)
    assert [await count_rows(services.store, table) for table in COUNTED] == rows
    assert await latest_sequence(services.store) == sequence
    async with services.store.read() as conn:
        found = await apps.find_by_client_id(conn, first.client_id)
        count = (await conn.execute(sa.select(sa.func.count()).select_from(t.applications)
                                    .where(t.applications.c.project_id == first.project_id))).scalar_one()
    assert found is not None
    assert first.client_secret is not None
    assert services.hasher.verify(first.client_secret, found[1] or "")  # the first secret still works
    assert count == 1


async def test_a_demo_password_that_breaks_the_policy_is_a_config_error(engine: AsyncEngine,
                                                                        tmp_path: Path) -> None:
    services = services_module.build(make_settings(tmp_path, demo_password="short"), engine=engine)
    instance = await _instance(services)
    with pytest.raises(ConfigError, match="BERGFRIED_DEMO_PASSWORD"):
        await ensure_demo(services, instance)
    assert await count_rows(services.store, t.projects) == 1  # only first start's project ZITADEL
