"""`bergfried apply` on both databases: the plan of a fresh instance, idempotence (a second
apply plans nothing and writes no event), dry runs that write nothing, changes, `--prune`, and
one transaction for the whole file."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from bergfried.apply.current import find_org
from bergfried.crypto.passwords import verify_password
from bergfried.domain.users import HumanUser, UserState
from bergfried.errors import ConfigError
from bergfried.services import Services
from bergfried.store import apps, grants, metadata, orgs, projects, users
from bergfried.store import tables as t
from tests.apply.conftest import apply_text, rendered
from tests.factories import count_rows, latest_sequence, make_user

WORLD = """
orgs:
  - name: ACME
    projects:
      - name: shop
        projectRoleAssertion: true
        roles:
          - {key: admin, displayName: Administrator}
          - {key: user, displayName: User}
        applications:
          - name: web
            oidc: {redirectUris: ["https://shop.example.com/cb"]}
          - name: spa
            oidc:
              appType: OIDC_APP_TYPE_USER_AGENT
              authMethodType: OIDC_AUTH_METHOD_TYPE_NONE
              redirectUris: ["https://shop.example.com/spa"]
          - name: backend
            api: {authMethodType: API_AUTH_METHOD_TYPE_BASIC}
    users:
      - userName: alice
        human:
          profile: {firstName: Alice, lastName: Liddell}
          email: {email: alice@example.com, isEmailVerified: true}
          password: Password1!
        metadata: {contract: "1234", tier: gold}
        grants: [{project: shop, roleKeys: [admin, user]}]
      - userName: robot
        machine: {name: Robot}
"""

CREATES = [
    "+ create organization ACME",
    "+ create project ACME/shop",
    "+ create role ACME/shop/admin",
    "+ create role ACME/shop/user",
    "+ create application ACME/shop/web",
    "+ create application ACME/shop/spa",
    "+ create application ACME/shop/backend",
    "+ create user ACME/alice",
    "+ create metadata ACME/alice contract",
    "+ create metadata ACME/alice tier",
    "+ create grant ACME/alice on shop",
    "+ create user ACME/robot",
]
TABLES = (t.orgs, t.projects, t.project_roles, t.applications, t.users, t.user_metadata, t.user_grants, t.events)


async def counts(services: Services) -> list[int]:
    return [await count_rows(services.store, table) for table in TABLES]


async def alice(services: Services) -> HumanUser:
    async with services.store.read() as conn:
        org = await find_org(conn, "ACME")
        assert org is not None
        row = (await conn.execute(sa.select(t.users.c.id).where(t.users.c.org_id == org.id,
                                                                t.users.c.username == "alice"))).one()
        user = await users.get(conn, row.id)
    assert isinstance(user, HumanUser)
    return user


async def test_plan_of_a_fresh_instance_creates_everything_parents_first(started: Services, tmp_path: Path) -> None:
    outcome = await apply_text(started, WORLD, tmp_path, dry_run=True)
    assert rendered(outcome) == CREATES
    assert outcome.applied is False
    assert outcome.secrets == []  # a dry run hands out no secret


async def test_dry_run_writes_nothing(started: Services, tmp_path: Path) -> None:
    before, sequence = await counts(started), await latest_sequence(started.store)
    await apply_text(started, WORLD, tmp_path, dry_run=True)
    assert await counts(started) == before
    assert await latest_sequence(started.store) == sequence
    async with started.store.read() as conn:
        assert await find_org(conn, "ACME") is None


async def test_applied_twice_the_second_apply_changes_nothing(started: Services, tmp_path: Path) -> None:
    first = await apply_text(started, WORLD, tmp_path)
    assert rendered(first) == CREATES
    assert first.applied is True
    assert sorted(s.target for s in first.secrets) == ["ACME/shop/backend", "ACME/shop/web"]  # not the SPA
    sequence, before = await latest_sequence(started.store), await counts(started)
    second = await apply_text(started, WORLD, tmp_path)
    assert second.actions == []
    assert second.secrets == []
    assert await latest_sequence(started.store) == sequence  # no event written
    assert await counts(started) == before
    assert (await apply_text(started, WORLD, tmp_path, dry_run=True)).actions == []


async def test_the_applied_world_is_what_the_file_says(started: Services, tmp_path: Path) -> None:
    outcome = await apply_text(started, WORLD, tmp_path)
    user = await alice(started)
    assert user.state == UserState.ACTIVE
    assert verify_password(user.password_hash, "Password1!")  # argon2id, never the plain text
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    async with started.store.read() as conn:
        project = await projects.find_by_name(conn, user.org_id, "shop")
        assert project is not None
        assert project.project_role_assertion is True
        assert await metadata.get_all(conn, user.id) == {"contract": b"1234", "tier": b"gold"}
        (grant,) = await grants.list_user_grants(conn, user_id=user.id)
        assert set(grant.role_keys) == {"admin", "user"}
        web = await apps.find_by_name(conn, project.id, "web")
        assert web is not None
        found = await apps.find_by_client_id(conn, web.client_id)
    assert found is not None
    (secret,) = [s for s in outcome.secrets if s.target == "ACME/shop/web"]
    assert secret.client_id == web.client_id
    assert found[1] is not None
    assert found[1] != secret.secret  # only a keyed hash is stored
    assert started.hasher.verify(secret.secret, found[1])


CHANGED = WORLD.replace("projectRoleAssertion: true", "projectRoleAssertion: false").replace(
    "displayName: Administrator", "displayName: Admins").replace(
    '"https://shop.example.com/cb"', '"https://shop.example.com/cb", "https://shop.example.com/cb2"').replace(
    "tier: gold", "tier: platinum").replace("roleKeys: [admin, user]", "roleKeys: [user]")


async def test_changes_are_planned_with_old_and_new_values_then_applied(started: Services, tmp_path: Path) -> None:
    await apply_text(started, WORLD, tmp_path)
    plan = rendered(await apply_text(started, CHANGED, tmp_path, dry_run=True))
    assert plan == [
        "~ change project ACME/shop: projectRoleAssertion: true → false",
        "~ change role ACME/shop/admin: displayName: 'Administrator' → 'Admins'",
        "~ change application ACME/shop/web: redirectUris: ['https://shop.example.com/cb'] → "
        "['https://shop.example.com/cb', 'https://shop.example.com/cb2']",
        "~ change metadata ACME/alice tier: value: 'gold' → 'platinum'",
        "~ change grant ACME/alice on shop: roleKeys: ['admin', 'user'] → ['user']",
    ]
    assert rendered(await apply_text(started, CHANGED, tmp_path)) == plan
    user = await alice(started)
    async with started.store.read() as conn:
        assert (await metadata.get_all(conn, user.id))["tier"] == b"platinum"
        (grant,) = await grants.list_user_grants(conn, user_id=user.id)
    assert grant.role_keys == ("user",)
    assert (await apply_text(started, CHANGED, tmp_path)).actions == []


PRUNED = WORLD.replace("          - {key: admin, displayName: Administrator}\n", "").replace(
    "          - name: spa\n            oidc:\n              appType: OIDC_APP_TYPE_USER_AGENT\n"
    "              authMethodType: OIDC_AUTH_METHOD_TYPE_NONE\n"
    "              redirectUris: [\"https://shop.example.com/spa\"]\n", "").replace(
    'metadata: {contract: "1234", tier: gold}', 'metadata: {contract: "1234"}').replace(
    "grants: [{project: shop, roleKeys: [admin, user]}]", "grants: []")


async def test_prune_deletes_only_the_children_a_given_list_leaves_out(started: Services, tmp_path: Path) -> None:
    await apply_text(started, WORLD, tmp_path)
    org_id = (await alice(started)).org_id
    async with started.store.read() as conn:
        org = await orgs.get(conn, org_id)
    bystander = await make_user(started.store, org, "bystander")  # in the org, not in the file
    assert (await apply_text(started, PRUNED, tmp_path)).actions == []  # without --prune nothing goes
    plan = rendered(await apply_text(started, PRUNED, tmp_path, prune=True, dry_run=True))
    assert plan == [
        "- delete grant ACME/alice on shop",
        "- delete metadata ACME/alice tier",
        "- delete application ACME/shop/spa",
        "- delete role ACME/shop/admin",
    ]
    assert rendered(await apply_text(started, PRUNED, tmp_path, prune=True)) == plan
    user = await alice(started)
    async with started.store.read() as conn:
        project = await projects.find_by_name(conn, org_id, "shop")
        assert project is not None
        assert [r.key for r in await projects.list_roles(conn, project.id)] == ["user"]
        assert sorted(a.name for a in await apps.list_for_project(conn, project.id)) == ["backend", "web"]
        assert await metadata.get_all(conn, user.id) == {"contract": b"1234"}
        assert await grants.list_user_grants(conn, user_id=user.id) == []
        assert await users.find(conn, bystander.id) is not None  # users are never pruned
    assert (await apply_text(started, PRUNED, tmp_path, prune=True)).actions == []


async def test_a_failing_action_rolls_the_whole_file_back(started: Services, tmp_path: Path) -> None:
    before, sequence = await counts(started), await latest_sequence(started.store)
    weak = WORLD.replace("password: Password1!", "password: short")  # the user comes late in the plan
    with pytest.raises(ConfigError) as caught:
        await apply_text(started, weak, tmp_path)
    assert str(caught.value).startswith("world.yaml: orgs[0].users[0]: cannot create user ACME/alice: Password ")
    assert await counts(started) == before
    assert await latest_sequence(started.store) == sequence
    with pytest.raises(ConfigError):  # a dry run finds the same error
        await apply_text(started, weak, tmp_path, dry_run=True)


@pytest.mark.parametrize(("edit", "message"), [
    (("roleKeys: [admin, user]", "roleKeys: [admin, owner]"),
     "world.yaml: orgs[0].users[0].grants[0].roleKeys: project 'shop' has no role 'owner'"),
    (("project: shop", "project: nowhere"),
     "world.yaml: orgs[0].users[0].grants[0].project: no project 'nowhere' in organization 'ACME'"),
])
async def test_grants_name_existing_projects_and_roles(started: Services, tmp_path: Path, edit: tuple[str, str],
                                                       message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        await apply_text(started, WORLD.replace(*edit), tmp_path, dry_run=True)
    assert str(caught.value) == message


async def test_passwords_from_a_file_or_the_environment(started: Services, tmp_path: Path) -> None:
    (tmp_path / "alice.password").write_text("FromFile1!\n", encoding="utf-8")
    world = WORLD.replace("password: Password1!", "passwordFile: alice.password") + """
      - userName: bob
        human:
          profile: {firstName: Bob, lastName: B}
          email: {email: bob@example.com}
          passwordEnv: BOB_PASSWORD
"""
    await apply_text(started, world, tmp_path, environ={"BOB_PASSWORD": "FromEnv1!"})
    async with started.store.read() as conn:
        bob = await users.find_by_login_name(conn, "bob@acme.localhost", must_be_domain=True)
    assert isinstance(bob, HumanUser)
    assert verify_password(bob.password_hash, "FromEnv1!")
    assert verify_password((await alice(started)).password_hash, "FromFile1!")


async def test_secrets_dir_gets_one_0600_file_per_new_secret(started: Services, tmp_path: Path) -> None:
    directory = tmp_path / "secrets"
    outcome = await apply_text(started, WORLD, tmp_path, secrets_dir=directory)
    assert sorted(p.name for p in outcome.secret_files) == ["acme.shop.backend.json", "acme.shop.web.json"]
    for path, secret in zip(outcome.secret_files, outcome.secrets, strict=True):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert json.loads(path.read_text(encoding="utf-8")) == {"clientId": secret.client_id,
                                                                "clientSecret": secret.secret}


async def test_an_app_of_another_kind_is_not_silently_replaced(started: Services, tmp_path: Path) -> None:
    await apply_text(started, WORLD, tmp_path)
    with pytest.raises(ConfigError, match=r"orgs\[0\]\.projects\[0\]\.applications\[2\]: application 'backend' "
                                          r"exists as an API application; apply cannot change its kind"):
        await apply_text(started, WORLD.replace("api: {authMethodType: API_AUTH_METHOD_TYPE_BASIC}", "oidc: {}"),
                         tmp_path, dry_run=True)


async def test_an_api_app_switched_to_basic_gets_a_secret(started: Services, tmp_path: Path) -> None:
    jwt = WORLD.replace("API_AUTH_METHOD_TYPE_BASIC", "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT")
    assert [s.target for s in (await apply_text(started, jwt, tmp_path)).secrets] == ["ACME/shop/web"]
    outcome = await apply_text(started, WORLD, tmp_path)
    assert rendered(outcome) == [
        "~ change application ACME/shop/backend: authMethodType: API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT → "
        "API_AUTH_METHOD_TYPE_BASIC",
        "~ change application ACME/shop/backend: new client secret",
    ]
    assert [s.target for s in outcome.secrets] == ["ACME/shop/backend"]
    assert (await apply_text(started, WORLD, tmp_path)).actions == []


USERS_CHANGED = WORLD.replace("profile: {firstName: Alice, lastName: Liddell}",
                              "profile: {firstName: Alice, lastName: Hargreaves, nickName: Al}").replace(
    "email: {email: alice@example.com, isEmailVerified: true}",
    "email: {email: alice@wonderland.example, isEmailVerified: true}").replace(
    "machine: {name: Robot}", "machine: {name: Robot, description: builds things}")


async def test_users_are_changed_through_the_management_rules(started: Services, tmp_path: Path) -> None:
    await apply_text(started, WORLD, tmp_path)
    plan = rendered(await apply_text(started, USERS_CHANGED, tmp_path))
    assert plan == [
        "~ change user ACME/alice: profile.lastName: 'Liddell' → 'Hargreaves'; profile.nickName: '' → 'Al'",
        "~ change user ACME/alice: email.email: 'alice@example.com' → 'alice@wonderland.example'",
        "~ change user ACME/robot: description: '' → 'builds things'",
    ]
    user = await alice(started)
    assert (user.profile.last_name, user.profile.nick_name) == ("Hargreaves", "Al")
    assert (user.email, user.is_email_verified) == ("alice@wonderland.example", True)
    assert verify_password(user.password_hash, "Password1!")  # the initial password is not reset
    assert (await apply_text(started, USERS_CHANGED, tmp_path)).actions == []


async def test_a_user_of_another_type_is_an_error(started: Services, tmp_path: Path) -> None:
    await apply_text(started, WORLD, tmp_path)
    human_robot = WORLD.replace("machine: {name: Robot}",
                                "human: {profile: {firstName: R, lastName: B}, email: {email: r@example.com}}")
    with pytest.raises(ConfigError) as caught:
        await apply_text(started, human_robot, tmp_path, dry_run=True)
    assert str(caught.value) == ("world.yaml: orgs[0].users[1]: user 'robot' exists as a machine user; "
                                 "apply cannot change its type")
