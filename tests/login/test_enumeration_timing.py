"""No user enumeration by timing at the password step: a wrong password for a real user and any
password for an unknown name take the same time, measured on the wall clock through HTTP (the
unknown name is verified against a dummy argon2id hash of the same parameters)."""

from __future__ import annotations

import statistics
import time

import pytest

from tests.login.conftest import World, error_of, post_form, start


@pytest.mark.rule("OWASP ASVS V2.2.1 / V3.2: no user enumeration by response time at the password step")
async def test_known_and_unknown_names_take_the_same_time(world: World) -> None:
    names = {"known": world.login_name(), "unknown": f"nobody@{world.org.primary_domain}"}
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for _ in range(4):
        for kind, name in names.items():  # interleaved, so that load on the machine hits both alike
            request_id = await world.auth_request()
            page = await start(world.client, request_id)
            begin = time.perf_counter()
            answer = await post_form(world.client, "/ui/login/password", page, request_id, loginName=name,
                                     password="Wrong1!pass")
            times[kind].append(time.perf_counter() - begin)
            assert error_of(answer) == "Password is invalid"
    known, unknown = statistics.median(times["known"]), statistics.median(times["unknown"])
    assert known > 0.005  # a real argon2id verification ran
    assert 0.5 < unknown / known < 2.0, (known, unknown)
