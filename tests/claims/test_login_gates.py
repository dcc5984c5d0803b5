"""The login gates, through the real authorize → login → callback flow on both databases
(spec/roles-and-permissions.md §4, spec/login.md §2 steps 12–13 and §3, spec/scopes.md §3): a
refused user sees ZITADEL's error on a page, the client gets nothing, and the request stays open,
so granting access afterwards lets the same request finish."""

from __future__ import annotations

import pytest

from bergfried.crypto.hashing import generate_secret
from bergfried.domain.apps import Application
from bergfried.domain.orgs import Org
from bergfried.domain.projects import Project, ProjectRole
from bergfried.store import apps, grants, projects
from tests.claims.world import REDIRECT, World, _config, link

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def gated_app(world: World, owner: Org, **flags: bool) -> tuple[Project, Application]:
    store = world.services.store
    async with store.write() as tx:
        project, _ = await projects.create(tx, owner.id, f"gated-{tx.new_id()}", **flags)
        await projects.add_roles(tx, project, [ProjectRole(project.id, "reader", "Reader")])
        app, _ = await apps.add_oidc(tx, project, "web", _config(), secret_hash=world.services.hasher.hash(
            generate_secret()))
    return project, app


async def logged_in(world: World, client_id: str, scope: str = "openid") -> str:
    response = await world.client.get("/oauth/v2/authorize", params={
        "client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code", "scope": scope, "state": "s"})
    assert response.status_code == 302, response.text
    request_id = response.headers["location"].split("authRequestID=", 1)[1]
    await link(world, request_id)
    return request_id


async def callback(world: World, request_id: str) -> tuple[int, str]:
    response = await world.client.get(f"/oauth/v2/authorize/callback?id={request_id}")
    return response.status_code, response.headers.get("location") or response.text


@pytest.mark.rule("spec/roles-and-permissions.md §4: projectRoleCheck needs an active user grant")
async def test_project_role_check(world: World) -> None:
    project, app = await gated_app(world, world.acme, project_role_check=True)
    request_id = await logged_in(world, app.client_id)
    status, page = await callback(world, request_id)
    assert status == 400
    assert "Errors.User.GrantRequired" in page
    assert "The user is required to have at least one grant on the application" in page
    async with world.services.store.write() as tx:
        await grants.add_user_grant(tx, world.user, project, [])  # a grant without roles counts
    status, location = await callback(world, request_id)
    assert status == 302
    assert location.startswith(f"{REDIRECT}?code=")


@pytest.mark.rule("spec/roles-and-permissions.md §4: hasProjectCheck: the user's org owns or is granted the project")
async def test_has_project_check(world: World) -> None:
    project, app = await gated_app(world, world.partner, has_project_check=True, project_role_check=True)
    request_id = await logged_in(world, app.client_id)
    status, page = await callback(world, request_id)
    assert status == 400
    assert "Errors.User.ProjectRequired" in page  # checked before projectRoleCheck (spec/login.md §2)
    async with world.services.store.write() as tx:
        project_grant, _ = await grants.add_project_grant(tx, project, world.acme.id, ["reader"])
    status, page = await callback(world, request_id)
    assert "Errors.User.GrantRequired" in page
    async with world.services.store.write() as tx:
        await grants.add_user_grant(tx, world.user, project, ["reader"], project_grant_id=project_grant.id)
    status, location = await callback(world, request_id)
    assert status == 302
    assert location.startswith(f"{REDIRECT}?code=")


async def test_own_project_passes_has_project_check(world: World) -> None:
    _, app = await gated_app(world, world.acme, has_project_check=True)
    status, location = await callback(world, await logged_in(world, app.client_id))
    assert status == 302
    assert "code=" in location


@pytest.mark.rule("spec/scopes.md §3: urn:zitadel:iam:org:id:{id} restricts the login to that organization")
@pytest.mark.parametrize("kind", ["id", "domain"])
async def test_org_scope_of_another_organization(world: World, kind: str) -> None:
    other = world.partner
    scope = f"urn:zitadel:iam:org:id:{other.id}" if kind == "id" else \
        f"urn:zitadel:iam:org:domain:primary:{other.primary_domain}"
    request_id = await logged_in(world, world.clients["plain"].app.client_id, f"openid {scope}")
    status, page = await callback(world, request_id)
    assert status == 400
    assert "Errors.User.NotAllowedOrg" in page
    assert "User is no member of the required organization" in page
