"""Password checks of the session service v2 are rate limited per user (the caller is a login UI
that speaks for every browser, so its IP says nothing): over the limit, RESOURCE_EXHAUSTED (gRPC 8,
HTTP 429) with `Retry-After`, the password is not checked and the session is not changed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bergfried.store import tables as t
from tests.api_v2.conftest import PASSWORD, V2, error_of


async def _failed_attempts(v2: V2) -> int:
    async with v2.w.services.store.read() as conn:
        return int((await conn.execute(sa.select(t.users.c.failed_password_attempts)
                                       .where(t.users.c.id == v2.alice.id))).scalar_one())


@pytest.mark.rule("OWASP ASVS V2.2.1: /v2/sessions password checks are limited per user; 429 + Retry-After")
async def test_over_the_per_user_limit_password_checks_get_resource_exhausted(v2: V2) -> None:
    v2.w.services.limits.password_per_name.per_minute = 2  # this process's limiter, as the setting makes it
    checks = {"user": {"userId": v2.alice.id}, "password": {"password": "wrong"}}
    for _ in range(2):
        wrong = await v2.call("POST", "/v2/sessions", v2.login_pat, json={"checks": checks})
        assert error_of(wrong)[:2] == (400, 3)
    session_id, _ = await v2.session(password=None)  # a user check alone is not limited
    events = await _count(v2, t.events)
    limited = await v2.call("PATCH", f"/v2/sessions/{session_id}", v2.login_pat,
                            json={"checks": {"password": {"password": PASSWORD}}})
    assert error_of(limited)[:2] == (429, 8)
    assert 1 <= int(limited.headers["retry-after"]) <= 30
    assert await _failed_attempts(v2) == 2  # not checked
    assert await _count(v2, t.events) == events
    by_name = await v2.call("POST", "/v2/sessions", v2.login_pat, json={
        "checks": {"user": {"loginName": v2.login_name}, "password": {"password": PASSWORD}}})
    assert error_of(by_name)[:2] == (429, 8)
    connect = await v2.w.client.post(
        "/zitadel.session.v2.SessionService/CreateSession", json={"checks": checks},
        headers={"authorization": f"Bearer {v2.login_pat}", "content-type": "application/json"})
    assert connect.status_code == 429
    assert connect.json()["code"] == "resource_exhausted"
    assert connect.headers["retry-after"]


async def _count(v2: V2, table: sa.Table) -> int:
    async with v2.w.services.store.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())
