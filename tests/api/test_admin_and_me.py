"""Admin v1 instance policies and the auth v1 calls about the caller himself."""

from __future__ import annotations

import pytest

from bergfried.crypto.passwords import hash_password
from bergfried.login import flow
from bergfried.store import users
from tests.api.conftest import World, error_of


@pytest.mark.rule("admin.proto GetPasswordComplexityPolicy/UpdatePasswordComplexityPolicy: isDefault until changed; "
                  "AddHumanUser checks the policy in force")
async def test_password_complexity_policy(world: World) -> None:
    path = "/admin/v1/policies/password/complexity"
    default = (await world.call("GET", path, world.iam_pat)).json()["policy"]
    assert default == {"minLength": "8", "hasUppercase": True, "hasLowercase": True, "hasNumber": True,
                       "hasSymbol": True, "isDefault": True}
    changed = await world.call("PUT", path, world.iam_pat, json={"minLength": "4", "hasLowercase": True})
    assert changed.status_code == 200
    now = (await world.call("GET", path, world.iam_pat)).json()["policy"]
    assert now["minLength"] == "4"
    assert now["isDefault"] is True  # the instance's policy is the default one
    assert now["details"]["sequence"] == changed.json()["details"]["sequence"]
    org_view = (await world.call("GET", "/management/v1/policies/password/complexity", world.owner)).json()
    assert org_view["policy"]["minLength"] == "4"
    assert org_view["policy"]["isDefault"] is True
    user = {"userName": "simple", "profile": {"firstName": "S", "lastName": "P"},
            "email": {"email": "s@acme.com"}, "initialPassword": "abcd"}
    assert (await world.call("POST", "/management/v1/users/human", world.owner, json=user)).status_code == 200
    assert error_of(await world.call("PUT", path, world.iam_pat, json={"minLength": 0}))[:2] == (400, 3)


@pytest.mark.rule("admin.proto lockout and login policies; iam.policy.* only for instance members")
async def test_lockout_and_login_policies(world: World) -> None:
    lockout = "/admin/v1/policies/lockout"
    assert (await world.call("GET", lockout, world.iam_pat)).json()["policy"] == {"isDefault": True}
    assert (await world.call("GET", "/management/v1/policies/lockout", world.owner)).json()["policy"] == \
        {"isDefault": True}
    assert (await world.call("PUT", lockout, world.iam_pat, json={"maxPasswordAttempts": 3})).status_code == 200
    assert (await world.call("GET", lockout, world.iam_pat)).json()["policy"]["maxPasswordAttempts"] == "3"
    login = "/admin/v1/policies/login"
    policy = (await world.call("GET", login, world.iam_pat)).json()["policy"]
    assert policy["passwordCheckLifetime"] == "864000s"
    assert policy["allowUsernamePassword"] is True
    update = {"allowUsernamePassword": True, "allowRegister": False, "forceMfa": False,
              "passwordCheckLifetime": "3600s"}
    assert (await world.call("PUT", login, world.iam_pat, json=update)).status_code == 200
    policy = (await world.call("GET", login, world.iam_pat)).json()["policy"]
    assert policy["passwordCheckLifetime"] == "3600s"
    assert "allowRegister" not in policy
    assert policy["multiFactorCheckLifetime"] == "43200s"
    bad = await world.call("PUT", login, world.iam_pat, json={"passwordCheckLifetime": "soon"})
    assert error_of(bad)[:2] == (400, 3)
    assert error_of(await world.call("GET", lockout, world.owner)) == (403, 7, "No matching permissions found "
                                                                                "(AUTH-5mWD2)")


@pytest.mark.rule("auth.proto GetMyUser, ListMyMetadata, GetMyMetadata: permission `authenticated`")
async def test_auth_me(world: World) -> None:
    machine_pat = await world.call("POST", f"/management/v1/users/{world.machine.id}/pats", world.owner, json={})
    token = machine_pat.json()["token"]
    await world.call("POST", f"/management/v1/users/{world.machine.id}/metadata/team", world.owner,
                     json={"value": "cmVk"})
    me = (await world.call("GET", "/auth/v1/users/me", token)).json()["user"]
    assert me["id"] == world.machine.id
    assert me["preferredLoginName"] == "robot@acme.localhost"
    found = (await world.call("POST", "/auth/v1/users/me/metadata/_search", token, json={})).json()
    assert [(m["key"], m["value"]) for m in found["result"]] == [("team", "cmVk")]
    one = (await world.call("GET", "/auth/v1/users/me/metadata/team", token)).json()["metadata"]
    assert one["value"] == "cmVk"
    assert error_of(await world.call("GET", "/auth/v1/users/me/metadata/nope", token))[:2] == (404, 5)
    assert error_of(await world.call("GET", "/auth/v1/users/me"))[:2] == (401, 16)


@pytest.mark.rule("admin.proto UpdateLockoutPolicy: the hosted login's password check locks by the changed policy")
async def test_lockout_policy_reaches_the_login(world: World) -> None:
    store = world.services.store
    async with store.write() as tx:
        await users.set_password(tx, world.user, hash_password("Password1!"))
    assert (await world.call("PUT", "/admin/v1/policies/lockout", world.iam_pat,
                             json={"maxPasswordAttempts": "1"})).status_code == 200
    async with store.write() as tx:
        outcome = await flow.check_password(tx, world.services, "road.runner@acme.localhost", "wrong")
    assert outcome.user is None
    got = await world.call("GET", f"/management/v1/users/{world.user.id}", world.owner)
    assert got.json()["user"]["state"] == "USER_STATE_LOCKED"
