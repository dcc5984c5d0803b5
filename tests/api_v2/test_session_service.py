"""Session service v2 (spec/api-v2.md §3): CreateSession, SetSession, GetSession, DeleteSession."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bergfried.store import sessions
from bergfried.store import tables as t
from tests.api_v2.conftest import PASSWORD, V2, error_of


async def _failed_attempts(v2: V2) -> int:
    async with v2.w.services.store.read() as conn:
        return int((await conn.execute(sa.select(t.users.c.failed_password_attempts)
                                       .where(t.users.c.id == v2.alice.id))).scalar_one())


@pytest.mark.rule("spec/api-v2.md §3: user then password in two calls; each a new token, only the latest valid")
async def test_create_then_set_password_then_get_with_the_latest_token(v2: V2) -> None:
    created = await v2.call("POST", "/v2/sessions", v2.login_pat, json={
        "checks": {"user": {"loginName": v2.login_name}}, "metadata": {"k": "MTIzNA=="}, "lifetime": "3600s",
        "userAgent": {"fingerprintId": "fp", "ip": "192.0.2.1", "header": {"accept-language": {"values": ["de"]}}}})
    assert created.status_code == 201, created.text
    body = created.json()
    session_id, first = body["sessionId"], body["sessionToken"]
    assert body["details"]["resourceOwner"] == v2.w.instance.id
    set_ = await v2.call("PATCH", f"/v2/sessions/{session_id}", v2.login_pat,
                         json={"checks": {"password": {"password": PASSWORD}}})
    assert set_.status_code == 200, set_.text
    second = set_.json()["sessionToken"]
    assert second != first
    got = await v2.call("GET", f"/v2/sessions/{session_id}?sessionToken={second}", v2.w.owner)
    assert got.status_code == 200, got.text
    session = got.json()["session"]
    assert session["id"] == session_id
    user = session["factors"]["user"]
    assert (user["id"], user["loginName"], user["organizationId"]) == (v2.alice.id, v2.login_name, v2.w.acme.id)
    assert user["displayName"] == "Alice Liddell"
    assert "verifiedAt" in session["factors"]["password"]
    assert session["metadata"] == {"k": "MTIzNA=="}
    assert session["userAgent"]["header"] == {"accept-language": {"values": ["de"]}}
    assert "expirationDate" in session
    stale = await v2.call("GET", f"/v2/sessions/{session_id}?sessionToken={first}", v2.w.owner)
    assert error_of(stale)[:2] == (403, 7)


@pytest.mark.rule("spec/api-v2.md §3: wrong password → INVALID_ARGUMENT Errors.User.Password.Invalid, counted")
async def test_a_wrong_password_creates_nothing_but_counts_the_attempt(v2: V2) -> None:
    before = await _failed_attempts(v2)
    wrong = await v2.call("POST", "/v2/sessions", v2.login_pat, json={
        "checks": {"user": {"userId": v2.alice.id}, "password": {"password": "wrong"}}})
    assert error_of(wrong) == (400, 3, "Password is invalid (COMMAND-3M0fs)")
    assert await _failed_attempts(v2) == before + 1
    async with v2.w.services.store.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.sessions))).scalar_one() == 0


async def test_create_session_errors(v2: V2) -> None:
    w = v2.w
    assert error_of(await v2.call("POST", "/v2/sessions", None, json={}))[:2] == (401, 16)
    assert error_of(await v2.call("POST", "/v2/sessions", w.owner, json={}))[:2] == (403, 7)  # no session.write
    empty_user = await v2.call("POST", "/v2/sessions", v2.login_pat, json={"checks": {"user": {}}})
    assert error_of(empty_user)[:2] == (400, 3)
    lifetime = await v2.call("POST", "/v2/sessions", v2.login_pat, json={"lifetime": "-5s"})
    assert error_of(lifetime)[2].startswith("The lifetime of the session must be positive")
    assert error_of(await v2.call("POST", "/v2/sessions", v2.login_pat, json={"lifetime": "soon"}))[:2] == (400, 3)
    unknown = await v2.call("POST", "/v2/sessions", v2.login_pat, json={"checks": {"user": {"loginName": "nobody"}}})
    assert error_of(unknown)[:2] == (404, 5)
    no_user = await v2.call("POST", "/v2/sessions", v2.login_pat, json={"checks": {"password": {"password": "x"}}})
    assert error_of(no_user) == (400, 9, "User ID missing (COMMAND-Sfw3f)")


async def test_set_session_errors(v2: V2) -> None:
    session_id, _ = await v2.session(password=None)
    path = f"/v2/sessions/{session_id}"
    change = await v2.call("PATCH", path, v2.login_pat, json={"checks": {"user": {"userId": v2.w.user.id}}})
    assert error_of(change)[:2] == (400, 3)
    assert "user change not possible" in error_of(change)[2]
    assert error_of(await v2.call("PATCH", path, v2.login_pat, json={"lifetime": "never"}))[:2] == (400, 3)
    assert error_of(await v2.call("PATCH", path, None, json={}))[:2] == (401, 16)
    assert error_of(await v2.call("PATCH", path, v2.w.owner, json={}))[:2] == (403, 7)  # not its creator
    assert error_of(await v2.call("PATCH", "/v2/sessions/404", v2.login_pat, json={}))[:2] == (404, 5)


async def test_get_and_delete_session(v2: V2) -> None:
    session_id, token = await v2.session()
    path = f"/v2/sessions/{session_id}"
    assert (await v2.call("GET", path, v2.login_pat)).status_code == 200  # its creator
    assert error_of(await v2.call("GET", path, None))[:2] == (401, 16)
    assert error_of(await v2.call("GET", path, v2.w.weak))[:2] == (403, 7)
    assert error_of(await v2.call("GET", "/v2/sessions/404", v2.login_pat))[:2] == (404, 5)
    assert error_of(await v2.call("DELETE", path, v2.w.weak, json={}))[:2] == (403, 7)
    assert error_of(await v2.call("DELETE", path, v2.w.weak, json={"sessionToken": "wrong"}))[:2] == (403, 7)
    deleted = await v2.call("DELETE", path, v2.w.weak, json={"sessionToken": token})  # the token suffices
    assert deleted.status_code == 200, deleted.text
    assert "changeDate" in deleted.json()["details"]
    assert error_of(await v2.call("GET", path, v2.login_pat))[:2] == (404, 5)
    assert error_of(await v2.call("DELETE", path, v2.login_pat, json={}))[:2] == (404, 5)
    assert error_of(await v2.call("DELETE", path, None, json={}))[:2] == (401, 16)


async def test_a_hosted_login_session_shows_its_factors_too(v2: V2) -> None:
    async with v2.w.services.store.write() as tx:
        browser = await sessions.create(tx, v2.alice.id, "agent-hash", org_id=v2.w.acme.id,
                                        password_checked_at=tx.now)
    got = await v2.call("GET", f"/v2/sessions/{browser.id}", v2.login_pat)  # IAM_LOGIN_CLIENT: session.read
    assert got.status_code == 200, got.text
    factors = got.json()["session"]["factors"]
    assert factors["user"]["id"] == v2.alice.id
    assert factors["user"]["loginName"] == v2.login_name
    assert "verifiedAt" in factors["password"]
