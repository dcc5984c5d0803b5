"""An organization scope restricts the login to that organization (spec/login.md §3, §4;
spec/scopes.md §3): a user of another organization is "not found" on the login-name page, and a
bare user name is looked up with the organization's primary domain."""

from __future__ import annotations

import pytest

from tests.factories import make_org, make_user
from tests.login.conftest import PASSWORD, World, callback_id, error_of, post_form, start


async def _typed(world: World, request_id: str, login_name: str) -> tuple[str | None, str]:
    first = await start(world.client, request_id)
    named = await post_form(world.client, "/ui/login/loginname", first, request_id, loginName=login_name)
    return error_of(named), named.text


@pytest.mark.rule("spec/login.md §3: org requested and user of another org → User could not be found")
@pytest.mark.parametrize("kind", ["id", "domain"])
async def test_user_of_another_organization_is_not_found(world: World, kind: str) -> None:
    other = await make_org(world.store, "Other")
    await make_user(world.store, other, "bob", password=PASSWORD)
    scope = f"urn:zitadel:iam:org:id:{world.org.id}" if kind == "id" else \
        f"urn:zitadel:iam:org:domain:primary:{world.org.primary_domain}"
    request_id = await world.auth_request(scopes=("openid", scope))
    error, _ = await _typed(world, request_id, f"bob@{other.primary_domain}")
    assert error == "User could not be found"
    error, text = await _typed(world, request_id, world.login_name())
    assert error is None
    assert 'autocomplete="current-password"' in text


@pytest.mark.rule("spec/login.md §3: with an org requested the bare user name gets its primary domain")
async def test_bare_user_name_in_the_requested_organization(world: World) -> None:
    request_id = await world.auth_request(scopes=("openid", f"urn:zitadel:iam:org:id:{world.org.id}"))
    first = await start(world.client, request_id)
    named = await post_form(world.client, "/ui/login/loginname", first, request_id, loginName="alice")
    assert error_of(named) is None
    answer = await post_form(world.client, "/ui/login/password", named, request_id,
                             loginName="alice", password=PASSWORD)
    assert callback_id(answer) == request_id


async def test_unknown_requested_organization_finds_nobody(world: World) -> None:
    request_id = await world.auth_request(scopes=("openid", "urn:zitadel:iam:org:id:404"))
    error, _ = await _typed(world, request_id, world.login_name())
    assert error == "User could not be found"
