"""Self-registration in the hosted login (spec/login.md §4 `prompt=create`, §6 registration),
through the pages of one browser, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from bergfried.crypto.passwords import verify_password
from bergfried.domain.users import HumanUser, UserState
from bergfried.store import instances
from bergfried.store import tables as t
from bergfried.store import users as user_store
from tests.factories import count_rows, make_org
from tests.login.conftest import PASSWORD, World, callback_id, csrf_of, post_form, start

_REGISTER_ERROR = re.compile(r'<p id="register-error" class="error" role="alert">([^<]*)</p>')

FIELDS = {"email": "wile@acme.example", "username": "wile", "firstname": "Wile E.", "lastname": "Coyote",
          "language": "de", "register-password": PASSWORD, "register-password-confirmation": PASSWORD}


@pytest.fixture(autouse=True)
async def _instance(world: World) -> None:
    """The instance whose default organization (ACME here) takes registrations without an org scope."""
    async with world.store.write() as tx:
        await instances.create(tx, instance_id=tx.new_id(), name="Bergfried", domain="localhost",
                               default_org_id=world.org.id)


def _is_register_page(response: httpx.Response) -> bool:
    return 'action="/ui/login/register"' in response.text


def _error(response: httpx.Response) -> str | None:
    match = _REGISTER_ERROR.search(response.text)
    return match.group(1) if match else None


async def _user(world: World, username: str) -> HumanUser | None:
    async with world.store.read() as conn:
        row = (await conn.execute(sa.select(t.users.c.id).where(t.users.c.username == username))).first()
        found = await user_store.find(conn, row.id) if row else None
    assert found is None or isinstance(found, HumanUser)
    return found


async def _register(world: World, request_id: str, **fields: Any) -> tuple[httpx.Response, httpx.Response]:
    page = await start(world.client, request_id)
    assert page.status_code == 200, page.text
    assert _is_register_page(page)
    return page, await post_form(world.client, "/ui/login/register", page, request_id, **{**FIELDS, **fields})


@pytest.mark.rule("spec/login.md §4 prompt=create → registration page; §6 the form's fields")
async def test_prompt_create_registers_a_user_and_goes_on_to_the_application(world: World) -> None:
    request_id = await world.auth_request(prompt=("create",))
    page, answer = await _register(world, request_id)
    for name in ("email", "username", "firstname", "lastname", "language", "register-password",
                 "register-password-confirmation"):
        assert f'name="{name}"' in page.text
    assert callback_id(answer) == request_id
    user = await _user(world, "wile")
    assert user is not None
    assert (user.org_id, user.state, user.email, user.is_email_verified) == (
        world.org.id, UserState.ACTIVE, "wile@acme.example", False)
    assert (user.profile.first_name, user.profile.last_name, user.profile.preferred_language) == (
        "Wile E.", "Coyote", "de")
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, PASSWORD)
    linked = await world.load(request_id)
    assert (linked.user_id, linked.amr) == (user.id, ("pwd",))
    assert linked.session_id is not None


@pytest.mark.rule("spec/login.md §6: the user is created in the default organization without an org scope")
async def test_registration_goes_to_the_default_org_or_the_org_the_scope_names(world: World) -> None:
    other = await make_org(world.store, "Looney")
    request_id = await world.auth_request(prompt=("create",),
                                          scopes=("openid", f"urn:zitadel:iam:org:id:{other.id}"))
    _, answer = await _register(world, request_id, username="bugs", email="bugs@looney.example")
    callback_id(answer)
    bugs = await _user(world, "bugs")
    assert bugs is not None
    assert bugs.org_id == other.id


@pytest.mark.rule("spec/login.md §6: without a username, the e-mail is the user name")
async def test_the_email_is_the_username_when_none_is_given(world: World) -> None:
    request_id = await world.auth_request(prompt=("create",))
    _, answer = await _register(world, request_id, username="")
    callback_id(answer)
    assert await _user(world, "wile@acme.example") is not None


@pytest.mark.rule("spec/login.md §6 \"Password confirmation is wrong\"; §5 complexity policy")
@pytest.mark.parametrize(("fields", "message"), [
    ({"register-password-confirmation": "Password2!"}, "Password confirmation is wrong"),
    ({"register-password": "short", "register-password-confirmation": "short"}, "Password is too short"),
    ({"register-password": "password1!", "register-password-confirmation": "password1!"},
     "Password must contain upper case"),
    ({"email": "not-an-email"}, "Email is invalid"),
    ({"lastname": ""}, "Fill in every required field"),
    ({"username": "alice"}, "Username already taken"),
])
async def test_a_bad_registration_shows_the_form_again_and_creates_nothing(world: World, fields: dict[str, str],
                                                                           message: str) -> None:
    request_id = await world.auth_request(prompt=("create",))
    users_before = await count_rows(world.store, t.users)
    _, answer = await _register(world, request_id, **fields)
    assert answer.status_code == 400
    assert _is_register_page(answer)
    assert _error(answer) == message
    assert PASSWORD not in answer.text  # a typed password is never echoed
    assert await count_rows(world.store, t.users) == users_before
    assert (await world.load(request_id)).done is False


@pytest.mark.rule("spec/login.md §1 /loginname POST field `register`: the login-name page's register button")
async def test_the_login_name_page_leads_to_registration(world: World) -> None:
    request_id = await world.auth_request()
    page = await start(world.client, request_id)
    assert 'name="register"' in page.text
    form = await post_form(world.client, "/ui/login/loginname", page, request_id, loginName="", register="true")
    assert form.status_code == 200
    assert _is_register_page(form)
    answer = await post_form(world.client, "/ui/login/register", form, request_id, **FIELDS)
    assert callback_id(answer) == request_id


@pytest.mark.rule("spec/login.md §6 \"Registration is not allowed\" (Errors.Org.LoginPolicy.RegistrationNotAllowed)")
@pytest.mark.parametrize("overrides", [{"login_allow_register": False}])
async def test_registration_is_refused_when_the_login_policy_forbids_it(world: World) -> None:
    request_id = await world.auth_request(prompt=("create",))
    page = await start(world.client, request_id)
    assert page.status_code == 400
    assert "Registration is not allowed" in page.text
    login = await start(world.client, await world.auth_request())
    assert 'name="register"' not in login.text
    users_before = await count_rows(world.store, t.users)
    posted = await world.client.post("/ui/login/register", data={
        "authRequestID": request_id, "csrfToken": csrf_of(login), **FIELDS})
    assert posted.status_code == 400
    assert "Registration is not allowed" in posted.text
    assert await count_rows(world.store, t.users) == users_before


@pytest.mark.rule("login CSRF: a registration POST without this browser's token creates nothing")
async def test_a_forged_registration_creates_nothing(world: World) -> None:
    request_id = await world.auth_request(prompt=("create",))
    await start(world.client, request_id)
    users_before = await count_rows(world.store, t.users)
    forged = await world.browser().post("/ui/login/register",
                                        data={"authRequestID": request_id, "csrfToken": "x", **FIELDS})
    assert forged.status_code == 400
    assert await count_rows(world.store, t.users) == users_before


@pytest.mark.rule("admin.proto UpdateLoginPolicy: allowRegister and ignoreUnknownUsernames set through the admin "
                  "API reach the hosted login at once")
async def test_the_stored_login_policy_decides_registration_and_unknown_names(world: World) -> None:
    import dataclasses

    from bergfried.domain.policies import LoginPolicy
    from bergfried.management import policies

    async with world.store.write() as tx:
        await policies.replace(tx, dataclasses.replace(LoginPolicy(), allow_register=False,
                                                       ignore_unknown_usernames=True))
    request_id = await world.auth_request(prompt=("create",))
    refused = await start(world.client, request_id)
    assert refused.status_code == 400
    assert "Registration is not allowed" in refused.text
    page = await start(world.client, await world.auth_request())
    assert 'name="register"' not in page.text
    other_id = await world.auth_request()
    page = await start(world.client, other_id)
    unknown = await post_form(world.client, "/ui/login/loginname", page, other_id, loginName="nobody@acme.localhost")
    assert unknown.status_code == 200
    assert 'autocomplete="current-password"' in unknown.text  # no "User could not be found": ignoreUnknownUsernames
