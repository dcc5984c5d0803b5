"""Profile, e-mail, phone, user name, machine data and password (spec/management-api.md §5.1)."""

from __future__ import annotations

import pytest

from bergfried.crypto.passwords import verify_password
from bergfried.domain.users import HumanUser
from bergfried.store import users
from tests.api.conftest import World, error_of


async def test_profile_email_phone_roundtrip(world: World) -> None:
    base = f"/management/v1/users/{world.user.id}"
    profile = {"firstName": "Road", "lastName": "Runner", "displayName": "Beep", "gender": "GENDER_FEMALE"}
    assert (await world.call("PUT", base + "/profile", world.owner, json=profile)).status_code == 200
    got = (await world.call("GET", base + "/profile", world.owner)).json()
    assert got["profile"] == {"firstName": "Road", "lastName": "Runner", "displayName": "Beep",
                              "gender": "GENDER_FEMALE"}
    assert got["details"]["resourceOwner"] == world.acme.id
    email = {"email": "beep@acme.com", "isEmailVerified": True}
    assert (await world.call("PUT", base + "/email", world.owner, json=email)).status_code == 200
    assert (await world.call("GET", base + "/email", world.owner)).json()["email"] == email
    assert (await world.call("PUT", base + "/phone", world.owner, json={"phone": "+4179"})).status_code == 200
    assert (await world.call("GET", base + "/phone", world.owner)).json()["phone"] == {"phone": "+4179"}
    assert (await world.call("DELETE", base + "/phone", world.owner)).status_code == 200
    assert (await world.call("GET", base + "/phone", world.owner)).json()["phone"] == {}


@pytest.mark.rule("spec/management-api.md §5.1: field rules, duplicates 409, human-only calls on machines")
async def test_profile_rejections(world: World) -> None:
    base = f"/management/v1/users/{world.user.id}"
    assert error_of(await world.call("PUT", base + "/profile", world.owner, json={"lastName": "R"}))[2] == \
        "invalid UpdateHumanProfileRequest.FirstName: value is required"
    assert error_of(await world.call("PUT", base + "/email", world.owner, json={"email": "nope"}))[:2] == (400, 3)
    assert error_of(await world.call("PUT", base + "/phone", world.owner, json={"phone": "079"}))[:2] == (400, 3)
    taken = await world.call("PUT", f"/management/v1/users/{world.machine.id}/username", world.owner,
                             json={"userName": "road.runner"})
    assert error_of(taken)[:2] == (409, 6)
    machine_profile = await world.call("GET", f"/management/v1/users/{world.machine.id}/profile", world.owner)
    assert error_of(machine_profile)[:2] == (400, 9)
    assert error_of(await world.call("GET", f"/management/v1/users/{world.other_user.id}/email",
                                     world.owner))[:2] == (404, 5)


async def test_username_machine_and_password(world: World) -> None:
    assert (await world.call("PUT", f"/management/v1/users/{world.user.id}/username", world.owner,
                             json={"userName": "roadie"})).status_code == 200
    got = (await world.call("GET", f"/management/v1/users/{world.user.id}", world.owner)).json()["user"]
    assert got["preferredLoginName"] == "roadie@acme.localhost"
    assert (await world.call("PUT", f"/management/v1/users/{world.machine.id}/machine", world.owner,
                             json={"name": "Robot 2", "accessTokenType": 1})).status_code == 200
    got = (await world.call("GET", f"/management/v1/users/{world.machine.id}", world.owner)).json()["user"]
    assert got["machine"] == {"name": "Robot 2", "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}
    weak = await world.call("POST", f"/management/v1/users/{world.user.id}/password", world.owner,
                            json={"password": "short"})
    assert error_of(weak)[:2] == (400, 3)
    assert (await world.call("POST", f"/management/v1/users/{world.user.id}/password", world.owner,
                             json={"password": "N3w-Passw0rd!", "noChangeRequired": True})).status_code == 200
    async with world.services.store.read() as conn:
        user = await users.get(conn, world.user.id)
    assert isinstance(user, HumanUser)
    assert verify_password(user.password_hash, "N3w-Passw0rd!")
    assert user.password_change_required is False
