"""Failed password checks of the hosted login are rate limited per client IP and per login name:
over the limit the password POST gets a 429 page (en/de) with `Retry-After`, checks nothing and
changes nothing; known and unknown names are limited alike (no enumeration); successful logins
spend nothing."""

from __future__ import annotations

from typing import Any

import pytest

from bergfried.domain.users import HumanUser
from bergfried.store import tables as t
from bergfried.store import users as user_store
from tests.factories import count_rows
from tests.login.conftest import World, post_form, start

PER_NAME = {"rate_limit_password_per_name": 2}
PER_IP = {"rate_limit_password_per_ip": 2}


async def _attempt(world: World, login_name: str, password: str, client: Any = None) -> Any:
    client = client or world.client
    request_id = await world.auth_request()
    page = await start(client, request_id)
    return await post_form(client, "/ui/login/password", page, request_id, loginName=login_name,
                           password=password)


async def _failures(world: World) -> int:
    async with world.store.read() as conn:
        user = await user_store.get(conn, world.user.id)
    assert isinstance(user, HumanUser)
    return user.failed_password_attempts


@pytest.mark.parametrize("overrides", [PER_NAME])
@pytest.mark.rule("OWASP ASVS V2.2.1: online guessing of one account is slowed (per login name)")
async def test_over_the_per_name_limit_even_the_right_password_gets_a_429_page_and_nothing_changes(
    world: World,
) -> None:
    for _ in range(2):
        wrong = await _attempt(world, world.login_name(), "Wrong1!pass")
        assert wrong.status_code == 200
    sessions, events = await count_rows(world.store, t.sessions), await count_rows(world.store, t.events)
    limited = await _attempt(world, world.login_name(), "Password1!")
    assert limited.status_code == 429
    assert "Too many sign-in attempts" in limited.text
    assert 1 <= int(limited.headers["retry-after"]) <= 30
    assert "default-src 'none'" in limited.headers["content-security-policy"]
    assert await _failures(world) == 2  # the password was not even checked
    assert await count_rows(world.store, t.sessions) == sessions
    assert await count_rows(world.store, t.events) == events
    # the name is compared case-insensitively; another name is not affected
    shouted = await _attempt(world, world.login_name().upper(), "Password1!")
    assert shouted.status_code == 429
    other = await _attempt(world, f"nobody@{world.org.primary_domain}", "Wrong1!pass")
    assert other.status_code == 200


@pytest.mark.parametrize("overrides", [PER_NAME])
@pytest.mark.rule("OWASP ASVS V2.2.1 + no enumeration: unknown names are limited like known ones")
async def test_unknown_names_are_limited_like_known_ones(world: World) -> None:
    answers = {}
    for name in (world.login_name(), f"nobody@{world.org.primary_domain}"):
        statuses = [(await _attempt(world, name, "Wrong1!pass")).status_code for _ in range(3)]
        answers[name] = statuses
    assert list(answers.values()) == [[200, 200, 429], [200, 200, 429]]


@pytest.mark.parametrize("overrides", [PER_IP])
@pytest.mark.rule("OWASP ASVS V2.2.1: password spraying from one client IP is slowed")
async def test_over_the_per_ip_limit_any_name_gets_the_429_page_in_german(world: World) -> None:
    for n in range(2):
        assert (await _attempt(world, f"user{n}@{world.org.primary_domain}", "Wrong1!pass")).status_code == 200
    world.client.headers["accept-language"] = "de"
    limited = await _attempt(world, world.login_name(), "Password1!")
    assert limited.status_code == 429
    assert "Zu viele Anmeldeversuche" in limited.text
    assert '<html lang="de"' in limited.text
    assert await count_rows(world.store, t.sessions) == 0


@pytest.mark.parametrize("overrides", [{**PER_NAME, **PER_IP}])
@pytest.mark.rule("docs/security.md: only failed password checks spend; users who log in are never limited")
async def test_successful_logins_spend_nothing(world: World) -> None:
    for _ in range(4):  # each in a new browser, so that SSO does not skip the password
        answer = await _attempt(world, world.login_name(), "Password1!", world.browser())
        assert answer.status_code == 303
