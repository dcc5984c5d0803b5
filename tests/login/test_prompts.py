"""How the authorize parameters drive the login: SSO, `prompt`, `max_age`, `login_hint` and the
user from an `id_token_hint` (spec/login.md §4), through the pages of one browser."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bergfried.store import tables as t
from bergfried.store import users as user_store
from tests.factories import count_rows, make_user
from tests.login.conftest import World, callback_id, error_of, post_form, sign_in, start

NO_SESSION = "Unfortunately, the user may be not logged in and/or additional interaction is required."


async def _signed_in(world: World) -> str:
    """Sign the world's browser in once; returns the session id."""
    request_id = await world.auth_request()
    callback_id(await sign_in(world.client, request_id, world.login_name()))
    session_id = (await world.load(request_id)).session_id
    assert session_id is not None
    return session_id


async def _backdate_password_check(world: World, session_id: str, age: timedelta) -> None:
    async with world.store.write() as tx:
        await tx.conn.execute(t.sessions.update().where(t.sessions.c.id == session_id)
                              .values(password_checked_at=tx.now - age))


def _is_password_page(page_text: str) -> bool:
    return 'autocomplete="current-password"' in page_text


def _is_login_name_page(page_text: str) -> bool:
    return 'action="/ui/login/loginname"' in page_text


@pytest.mark.rule("spec/login.md §4 no prompt: one active session is used automatically (SSO)")
async def test_sso_with_one_session_skips_every_page(world: World) -> None:
    session_id = await _signed_in(world)
    request_id = await world.auth_request()
    answer = await start(world.client, request_id)
    assert answer.status_code == 302
    assert callback_id(answer) == request_id
    linked = await world.load(request_id)
    assert linked.session_id == session_id
    assert linked.user_id == world.user.id
    assert linked.amr == ("pwd",)
    async with world.store.read() as conn:
        checked = (await conn.execute(sa.select(t.sessions.c.password_checked_at)
                                      .where(t.sessions.c.id == session_id))).scalar_one()
    assert linked.auth_time == checked  # when the password was checked, not now


@pytest.mark.rule("spec/login.md §2 sessions are per browser: another browser gets the login-name page")
async def test_another_browser_does_not_share_the_session(world: World) -> None:
    await _signed_in(world)
    request_id = await world.auth_request()
    answer = await start(world.browser(), request_id)
    assert answer.status_code == 200
    assert _is_login_name_page(answer.text)


@pytest.mark.rule("spec/login.md §4 prompt=login: login-name page despite sessions, password again")
async def test_prompt_login_forces_the_password(world: World) -> None:
    session_id = await _signed_in(world)
    request_id = await world.auth_request(prompt=("login",))
    page = await start(world.client, request_id)
    assert page.status_code == 200
    assert _is_login_name_page(page.text)
    named = await post_form(world.client, "/ui/login/loginname", page, request_id, loginName=world.login_name())
    assert named.status_code == 200
    assert _is_password_page(named.text)
    assert (await world.load(request_id)).done is False
    answer = await post_form(world.client, "/ui/login/password", named, request_id, loginName=world.login_name(),
                             password="Password1!")
    assert callback_id(answer) == request_id
    linked = await world.load(request_id)
    assert linked.session_id == session_id
    assert linked.auth_time is not None
    assert linked.auth_time >= linked.created_at


@pytest.mark.rule("spec/login.md §4 prompt=none without a session: interaction_required at the callback")
async def test_prompt_none_without_a_session_fails_with_interaction_required(world: World) -> None:
    request_id = await world.auth_request(prompt=("none",))
    answer = await start(world.client, request_id)
    assert callback_id(answer) == request_id
    failed = await world.load(request_id)
    assert failed.error == "interaction_required"
    assert failed.error_description == NO_SESSION
    assert failed.session_id is None


@pytest.mark.rule("spec/login.md §4 prompt=none with the only session: selected, no page")
async def test_prompt_none_with_one_session_links_it(world: World) -> None:
    session_id = await _signed_in(world)
    request_id = await world.auth_request(prompt=("none",))
    answer = await start(world.client, request_id)
    assert callback_id(answer) == request_id
    linked = await world.load(request_id)
    assert linked.error is None
    assert linked.session_id == session_id


@pytest.mark.rule("spec/login.md §4 prompt=none: a session too old for max_age is interaction_required")
async def test_prompt_none_with_a_stale_session_fails(world: World) -> None:
    session_id = await _signed_in(world)
    await _backdate_password_check(world, session_id, timedelta(hours=2))
    request_id = await world.auth_request(prompt=("none",), max_age=60)
    callback_id(await start(world.client, request_id))
    assert (await world.load(request_id)).error == "interaction_required"


@pytest.mark.rule("spec/login.md §4 prompt=select_account: the browser's sessions are listed")
async def test_prompt_select_account_lists_the_sessions_and_picking_one_links_it(world: World) -> None:
    session_id = await _signed_in(world)
    request_id = await world.auth_request(prompt=("select_account",))
    page = await start(world.client, request_id)
    assert page.status_code == 200
    assert 'action="/ui/login/accounts"' in page.text
    assert f'value="{world.user.id}"' in page.text
    assert "Alice Liddell" in page.text
    assert world.login_name() in page.text
    answer = await post_form(world.client, "/ui/login/accounts", page, request_id, userID=world.user.id)
    assert answer.status_code == 303
    assert callback_id(answer) == request_id
    assert (await world.load(request_id)).session_id == session_id


@pytest.mark.rule("spec/login.md §4 prompt=select_account without sessions: the login-name page")
async def test_prompt_select_account_without_sessions_shows_the_login_name_page(world: World) -> None:
    request_id = await world.auth_request(prompt=("select_account",))
    page = await start(world.client, request_id)
    assert _is_login_name_page(page.text)


@pytest.mark.rule("spec/login.md §4 no prompt, several sessions: account selection")
async def test_two_users_on_one_browser_get_the_account_selection(world: World) -> None:
    await _signed_in(world)
    bob = await make_user(world.store, world.org, "bob", first_name="Bob", last_name="Builder")
    request_id = await world.auth_request(prompt=("login",))
    callback_id(await sign_in(world.client, request_id, world.login_name(bob)))
    request_id = await world.auth_request()
    page = await start(world.client, request_id)
    assert 'action="/ui/login/accounts"' in page.text
    assert "Alice Liddell" in page.text
    assert "Bob Builder" in page.text
    other = await post_form(world.client, "/ui/login/accounts", page, request_id, userID="")
    assert _is_login_name_page(other.text)
    answer = await post_form(world.client, "/ui/login/accounts", page, request_id, userID=bob.id)
    assert callback_id(answer) == request_id
    assert (await world.load(request_id)).user_id == bob.id


@pytest.mark.rule("spec/login.md §4 max_age: a password check older than created_at − max_age is redone")
async def test_max_age_forces_the_password_when_the_check_is_too_old(world: World) -> None:
    session_id = await _signed_in(world)
    await _backdate_password_check(world, session_id, timedelta(hours=2))
    stale = await world.auth_request(max_age=3600)
    page = await start(world.client, stale)
    assert page.status_code == 200
    assert _is_password_page(page.text)
    assert f'value="{world.login_name()}"' in page.text
    fresh = await world.auth_request(max_age=3 * 3600)
    assert callback_id(await start(world.client, fresh)) == fresh


@pytest.mark.rule("spec/login.md §2 step 5: passwordCheckLifetime (240 h) limits SSO")
async def test_a_password_check_older_than_the_policy_lifetime_is_redone(world: World) -> None:
    session_id = await _signed_in(world)
    await _backdate_password_check(world, session_id, timedelta(hours=241))
    page = await start(world.client, await world.auth_request())
    assert _is_password_page(page.text)


@pytest.mark.rule("spec/login.md §4 login_hint: resolves like a typed name, preselects the user")
async def test_login_hint_preselects_the_user_on_the_password_page(world: World) -> None:
    request_id = await world.auth_request(login_hint=world.login_name())
    page = await start(world.client, request_id)
    assert page.status_code == 200
    assert _is_password_page(page.text)
    assert f'value="{world.login_name()}"' in page.text
    other = re.search(r'<a href="(/ui/login/loginname\?authRequestID=[0-9]+)">Use another account</a>', page.text)
    assert other is not None
    login_name_page = await world.client.get(other.group(1))
    assert _is_login_name_page(login_name_page.text)
    answer = await post_form(world.client, "/ui/login/password", page, request_id, loginName=world.login_name(),
                             password="Password1!")
    assert callback_id(answer) == request_id


@pytest.mark.rule("spec/login.md §4 login_hint that does not resolve: ignored, login-name page")
async def test_an_unknown_login_hint_is_ignored_but_prefilled(world: World) -> None:
    request_id = await world.auth_request(login_hint="nobody@example.org")
    page = await start(world.client, request_id)
    assert _is_login_name_page(page.text)
    assert 'value="nobody@example.org"' in page.text
    assert error_of(page) is None


@pytest.mark.rule("spec/login.md §4 id_token_hint: its sub preselects the user")
async def test_hint_user_id_preselects_the_user(world: World) -> None:
    request_id = await world.auth_request(hint_user_id=world.user.id)
    page = await start(world.client, request_id)
    assert _is_password_page(page.text)
    assert f'value="{world.login_name()}"' in page.text


@pytest.mark.rule("spec/login.md §4 id_token_hint: the hinted user's own session gives SSO")
async def test_hint_user_id_with_a_session_of_another_user_still_asks_for_the_hinted_user(world: World) -> None:
    await _signed_in(world)
    bob = await make_user(world.store, world.org, "bob")
    request_id = await world.auth_request(hint_user_id=bob.id)
    page = await start(world.client, request_id)
    assert _is_password_page(page.text)
    assert f'value="{world.login_name(bob)}"' in page.text
    sso = await world.auth_request(hint_user_id=world.user.id)
    assert callback_id(await start(world.client, sso)) == sso


@pytest.mark.rule("spec/login.md §1 finish: a finished request goes back to the callback")
async def test_a_finished_request_sends_the_browser_back_to_the_callback(world: World) -> None:
    request_id = await world.auth_request()
    callback_id(await sign_in(world.client, request_id, world.login_name()))
    sessions_before = await count_rows(world.store, t.sessions)
    again = await start(world.client, request_id)
    assert callback_id(again) == request_id
    assert await count_rows(world.store, t.sessions) == sessions_before


@pytest.mark.rule("spec/login.md §3 outcomes apply to a hinted user too")
async def test_a_hinted_user_who_cannot_log_in_gets_the_message_or_interaction_required(world: World) -> None:
    async with world.store.write() as tx:
        await user_store.change_state(tx, world.user, "lock")
    request_id = await world.auth_request(login_hint=world.login_name())
    page = await start(world.client, request_id)
    assert _is_login_name_page(page.text)
    assert error_of(page) == "User is locked"
    silent = await world.auth_request(login_hint=world.login_name(), prompt=("none",))
    assert callback_id(await start(world.client, silent)) == silent
    assert (await world.load(silent)).error == "interaction_required"


async def test_the_get_pages_for_password_accounts_and_another_user(world: World) -> None:
    request_id = await world.auth_request(login_hint=world.login_name())
    params = {"authRequestID": request_id}
    password_page = await world.client.get("/ui/login/password", params=params)
    assert _is_password_page(password_page.text)
    no_accounts = await world.client.get("/ui/login/accounts", params=params)
    assert _is_login_name_page(no_accounts.text)
    await _signed_in(world)
    accounts = await world.client.get("/ui/login/accounts", params=params)
    assert 'action="/ui/login/accounts"' in accounts.text
    stranger = await post_form(world.client, "/ui/login/accounts", accounts, request_id, userID="123456")
    assert _is_login_name_page(stranger.text)
    assert (await world.load(request_id)).done is False
