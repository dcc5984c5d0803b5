"""The password step: one message whether or not the user exists, the same work for both, and
the lockout policy (spec/login.md §3 ignoreUnknownUsernames, §5)."""

from __future__ import annotations

from typing import Any

import pytest

from bergfried.crypto import passwords
from bergfried.crypto.passwords import verify_password
from bergfried.domain.users import HumanUser, UserState
from bergfried.store import tables as t
from bergfried.store import users as user_store
from tests.factories import count_rows
from tests.login.conftest import PASSWORD, World, callback_id, error_of, post_form, sign_in, start

IGNORE_UNKNOWN = {"login_ignore_unknown_usernames": True}


async def _user(world: World) -> HumanUser:
    async with world.store.read() as conn:
        user = await user_store.get(conn, world.user.id)
    assert isinstance(user, HumanUser)
    return user


@pytest.mark.rule("spec/login.md §5 wrong password: Errors.User.Password.Invalid")
async def test_wrong_password_shows_password_is_invalid_and_counts_the_failure(world: World) -> None:
    request_id = await world.auth_request()
    answer = await sign_in(world.client, request_id, world.login_name(), "Wrong1!pass")
    assert answer.status_code == 200
    assert error_of(answer) == "Password is invalid"
    assert 'aria-describedby="password-error"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert (await _user(world)).failed_password_attempts == 1
    assert (await world.load(request_id)).done is False
    assert await count_rows(world.store, t.sessions) == 0


@pytest.mark.rule("spec/login.md §3: an unknown user at the password step reads like a wrong password")
async def test_unknown_user_at_the_password_step_gets_the_wrong_password_message(world: World) -> None:
    request_id = await world.auth_request()
    page = await start(world.client, request_id)
    wrong = await post_form(world.client, "/ui/login/password", page, request_id, loginName=world.login_name(),
                            password="Wrong1!pass")
    unknown = await post_form(world.client, "/ui/login/password", page, request_id,
                              loginName=f"nobody@{world.org.primary_domain}", password="Wrong1!pass")
    assert error_of(wrong) == "Password is invalid"
    assert error_of(unknown) == error_of(wrong)
    assert wrong.status_code == unknown.status_code == 200


@pytest.mark.parametrize("overrides", [IGNORE_UNKNOWN])
@pytest.mark.rule("spec/login.md §3 ignoreUnknownUsernames: password page for any name, one message")
async def test_with_ignore_unknown_usernames_unknown_and_wrong_password_are_indistinguishable(world: World) -> None:
    known, unknown = world.login_name(), f"nobody@{world.org.primary_domain}"
    answers = {}
    for name in (known, unknown):
        request_id = await world.auth_request()
        page = await start(world.client, request_id)
        named = await post_form(world.client, "/ui/login/loginname", page, request_id, loginName=name)
        assert 'autocomplete="current-password"' in named.text  # the password page, also for "nobody"
        answer = await post_form(world.client, "/ui/login/password", named, request_id, loginName=name,
                                 password="Wrong1!pass")
        answers[name] = (answer, request_id)
    known_answer, unknown_answer = answers[known][0], answers[unknown][0]
    assert error_of(known_answer) == "Username or Password is invalid"
    assert error_of(unknown_answer) == "Username or Password is invalid"
    assert known_answer.status_code == unknown_answer.status_code

    def normalized(answer: Any, name: str, request_id: str) -> str:
        return str(answer.text).replace(name, "NAME").replace(request_id, "ID")

    assert normalized(known_answer, known, answers[known][1]) == normalized(unknown_answer, unknown,
                                                                            answers[unknown][1])


@pytest.mark.rule("spec/login.md §3: an unknown user costs the same argon2 verification as a real one")
async def test_unknown_and_known_users_both_run_one_password_verification(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str | None] = []
    real = verify_password

    def counting(stored_hash: str | None, password: str) -> bool:
        seen.append(stored_hash)
        return real(stored_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)  # looked up per call
    request_id = await world.auth_request()
    page = await start(world.client, request_id)
    for name in (world.login_name(), f"nobody@{world.org.primary_domain}"):
        await post_form(world.client, "/ui/login/password", page, request_id, loginName=name, password="Wrong1!x")
    assert len(seen) == 2
    assert seen[0] == world.user.password_hash
    assert seen[1] is None  # the dummy hash: same parameters, same time


@pytest.mark.parametrize("overrides", [{"lockout_max_password_attempts": 3}])
@pytest.mark.rule("spec/login.md §5 lockout: the failure reaching max locks; then 'User is locked'")
async def test_lockout_at_max_attempts_then_user_is_locked_even_with_the_right_password(world: World) -> None:
    request_id = await world.auth_request()
    for attempt in (1, 2, 3):
        answer = await sign_in(world.client, request_id, world.login_name(), f"Wrong{attempt}!pass")
        assert error_of(answer) == "Password is invalid"
        assert (await _user(world)).failed_password_attempts == attempt
    assert (await _user(world)).state == UserState.LOCKED
    page = await start(world.client, request_id)
    right = await post_form(world.client, "/ui/login/password", page, request_id, loginName=world.login_name(),
                            password=PASSWORD)
    assert right.status_code == 200
    assert error_of(right) == "User is locked"
    assert (await world.load(request_id)).done is False
    assert await count_rows(world.store, t.sessions) == 0
    again = await post_form(world.client, "/ui/login/loginname", page, request_id, loginName=world.login_name())
    assert error_of(again) == "User is locked"


@pytest.mark.parametrize("overrides", [{"lockout_max_password_attempts": 3}])
@pytest.mark.rule("spec/login.md §5 lockout: a successful check resets the counter")
async def test_a_successful_login_resets_the_failed_attempts(world: World) -> None:
    request_id = await world.auth_request()
    for attempt in (1, 2):
        await sign_in(world.client, request_id, world.login_name(), f"Wrong{attempt}!pass")
    assert (await _user(world)).failed_password_attempts == 2
    answer = await sign_in(world.client, request_id, world.login_name(), PASSWORD)
    assert callback_id(answer) == request_id
    user = await _user(world)
    assert user.failed_password_attempts == 0
    assert user.state == UserState.ACTIVE


@pytest.mark.rule("spec/login.md §5 lockout default maxPasswordAttempts 0: never lock")
async def test_without_a_lockout_policy_failures_never_lock(world: World) -> None:
    request_id = await world.auth_request()
    for attempt in range(4):
        await sign_in(world.client, request_id, world.login_name(), f"Wrong{attempt}!pass")
    user = await _user(world)
    assert user.failed_password_attempts == 4
    assert user.state == UserState.ACTIVE
    assert callback_id(await sign_in(world.client, request_id, world.login_name())) == request_id


async def test_an_empty_password_is_a_field_error_without_a_check(world: World) -> None:
    request_id = await world.auth_request()
    page = await start(world.client, request_id)
    answer = await post_form(world.client, "/ui/login/password", page, request_id, loginName=world.login_name(),
                             password="")
    assert error_of(answer) == "Enter your password"
    assert (await _user(world)).failed_password_attempts == 0
