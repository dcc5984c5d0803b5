"""Signing in with a login name and password: what may be typed, what the login hands the
authorize endpoint, and the messages for users who cannot log in (spec/login.md §3)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from bergfried.store import sessions as session_store
from bergfried.store import tables as t
from bergfried.store import users as user_store
from tests.factories import make_machine, make_user
from tests.login.conftest import PASSWORD, World, callback_id, error_of, post_form, sign_in, start


async def _session_row(world: World, session_id: str) -> Any:
    async with world.store.read() as conn:
        row = (await conn.execute(sa.select(t.sessions).where(t.sessions.c.id == session_id))).first()
    assert row is not None
    return row


@pytest.mark.rule("spec/login.md §3 login name username@verified-org-domain")
async def test_login_by_username_at_org_domain_links_a_password_session_to_the_request(world: World) -> None:
    request_id = await world.auth_request()
    answer = await sign_in(world.client, request_id, world.login_name())
    assert answer.status_code == 303
    assert callback_id(answer) == request_id
    linked = await world.load(request_id)
    assert linked.user_id == world.user.id
    assert linked.amr == ("pwd",)
    assert linked.session_id is not None
    assert linked.error is None
    row = await _session_row(world, linked.session_id)
    assert row.user_id == world.user.id
    assert row.password_checked_at == linked.auth_time
    assert row.terminated_at is None
    assert row.user_agent_id is not None
    assert len(row.user_agent_id) == 64  # a keyed hash, never the cookie itself
    assert row.user_agent_id not in answer.request.headers.get("cookie", "")


@pytest.mark.rule("spec/login.md §3 login name: unique e-mail address")
async def test_login_by_e_mail_address(world: World) -> None:
    request_id = await world.auth_request()
    answer = await sign_in(world.client, request_id, "  ALICE@example.com ")
    assert callback_id(answer) == request_id
    assert (await world.load(request_id)).user_id == world.user.id


@pytest.mark.rule("spec/login.md §3 userLoginMustBeDomain: the bare user name is not a login name")
async def test_bare_user_name_is_not_found_when_the_domain_is_required(world: World) -> None:
    request_id = await world.auth_request()
    page = await start(world.client, request_id)
    answer = await post_form(world.client, "/ui/login/loginname", page, request_id, loginName="alice")
    assert answer.status_code == 200
    assert error_of(answer) == "User could not be found"
    assert 'aria-describedby="loginName-error"' in answer.text
    assert 'value="alice"' in answer.text
    assert (await world.load(request_id)).done is False


@pytest.mark.rule("spec/login.md §3 outcomes: inactive, locked, machine user")
async def test_users_who_cannot_log_in_get_zitadels_messages_on_the_login_name_page(world: World) -> None:
    inactive = await make_user(world.store, world.org, "ina")
    locked = await make_user(world.store, world.org, "loc")
    await make_machine(world.store, world.org, "robot")
    async with world.store.write() as tx:
        await user_store.change_state(tx, inactive, "deactivate")
        await user_store.change_state(tx, locked, "lock")
    expected = {"ina": "User is inactive", "loc": "User is locked", "robot": "The User must be personal"}
    for username, message in expected.items():
        request_id = await world.auth_request()
        page = await start(world.client, request_id)
        answer = await post_form(world.client, "/ui/login/loginname", page, request_id,
                                 loginName=f"{username}@{world.org.primary_domain}")
        assert answer.status_code == 200
        assert error_of(answer) == message, username
        assert 'autocomplete="current-password"' not in answer.text


@pytest.mark.rule("spec/login.md §3 machine users cannot use the login (Errors.User.NotHuman)")
async def test_a_machine_user_cannot_pass_the_password_step_either(world: World) -> None:
    await make_machine(world.store, world.org, "robot")
    request_id = await world.auth_request()
    page = await start(world.client, request_id)
    answer = await post_form(world.client, "/ui/login/password", page, request_id,
                             loginName=f"robot@{world.org.primary_domain}", password=PASSWORD)
    assert error_of(answer) == "The User must be personal"
    assert (await world.load(request_id)).done is False


@pytest.mark.rule("spec/login.md §2: one user session per browser and user, reused by later logins")
async def test_a_second_password_login_on_the_same_browser_reuses_the_session(world: World) -> None:
    first = await world.auth_request()
    await sign_in(world.client, first, world.login_name())
    second = await world.auth_request(prompt=("login",))
    await sign_in(world.client, second, world.login_name())
    one, two = await world.load(first), await world.load(second)
    assert one.session_id == two.session_id
    assert one.auth_time is not None
    assert two.auth_time is not None
    assert two.auth_time >= one.auth_time
    assert one.session_id is not None
    async with world.store.read() as conn:
        session = await session_store.get(conn, one.session_id)
    assert session is not None
    assert session.password_checked_at == two.auth_time
