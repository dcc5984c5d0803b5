"""Scale-out (issue 11 §1): two real `bergfried start` processes on one PostgreSQL behave as one
provider. Whatever one process writes, the other honours at once: codes, revocations, signing keys,
half-finished logins and locked users. Only HTTP reaches the processes."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import KeySet

from bergfried.claims import subject as subject_loader
from bergfried.domain.users import HumanUser, UserState
from bergfried.store import tables as t
from bergfried.store import users as user_store
from bergfried.store.tokens import Grant
from bergfried.tokens.issue import TokenRequest, audience, issue
from tests.oidc.conftest import unverified
from tests.scale.conftest import (
    PASSWORD,
    Pair,
    World,
    authorize,
    code_from_callback,
    code_via,
    introspect,
    login_name_step,
    password_step,
    redeem,
    refresh,
)

pytestmark = pytest.mark.e2e
_ERROR = re.compile(r'<p id="(?:loginName|password)-error" class="error" role="alert">([^<]*)</p>')


def page_error(page: httpx.Response) -> str | None:
    match = _ERROR.search(page.text)
    return match.group(1) if match else None


def kid_of(token: str) -> str:
    header, _ = unverified(token)  # read only: verification comes from a JWKS
    return str(header["kid"])


async def jwks(http: httpx.AsyncClient, base_url: str) -> KeySet:
    return KeySet.import_key_set((await http.get(f"{base_url}/oauth/v2/keys")).json())


@pytest.mark.rule("issue 11 §1: a code issued by A is redeemed on B, once")
async def test_code_issued_by_a_is_redeemed_on_b(pair: Pair, world: World) -> None:
    code = await code_via(world, world.web, pair.a, pair.a)
    async with httpx.AsyncClient(timeout=30) as http:
        tokens = await redeem(http, pair.b, world, world.web, code)
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        claims = jwt.decode(body["id_token"], await jwks(http, pair.a.base_url)).claims
        assert (claims["sub"], claims["iss"]) == (world.user.id, pair.issuer)
        info = await http.get(f"{pair.a.base_url}/oidc/v1/userinfo",
                              headers={"authorization": f"Bearer {body['access_token']}"})
        assert (info.status_code, info.json()["sub"]) == (200, world.user.id)
        again = await redeem(http, pair.a, world, world.web, code)
        assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


@pytest.mark.rule("issue 11 §1: a token revoked on A is inactive on B at once (opaque and JWT access tokens, "
                  "refresh token)")
async def test_token_revoked_on_a_is_inactive_on_b_at_once(pair: Pair, world: World) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        for app, secret in ((world.web, world.web_secret), (world.jwt_app, world.jwt_secret)):
            answer = await redeem(http, pair.a, world, app, await code_via(world, app, pair.a, pair.a))
            assert answer.status_code == 200, answer.text
            access, refresh_token = answer.json()["access_token"], answer.json()["refresh_token"]
            assert (await introspect(http, pair.b, world, access))["active"] is True
            revoked = await http.post(f"{pair.a.base_url}/oauth/v2/revoke", data={"token": access},
                                      auth=(app.client_id, secret))
            assert revoked.status_code == 200, revoked.text
            assert await introspect(http, pair.b, world, access) == {"active": False}
            info = await http.get(f"{pair.b.base_url}/oidc/v1/userinfo",
                                  headers={"authorization": f"Bearer {access}"})
            assert info.status_code == 401
            revoked = await http.post(f"{pair.a.base_url}/oauth/v2/revoke", data={"token": refresh_token},
                                      auth=(app.client_id, secret))
            assert revoked.status_code == 200, revoked.text
            used = await refresh(http, pair.b, world, app, refresh_token)
            assert (used.status_code, used.json()["error"]) == (400, "invalid_grant")


@pytest.mark.rule("issue 11 §1: a key rotated while A and B run signs and verifies on both: B verifies what the "
                  "new key signed, then signs with it itself, and A's JWKS verifies B's token; tokens of the old "
                  "key stay valid on both")
async def test_rotated_key_signs_and_verifies_on_both(pair: Pair, world: World) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        before = await redeem(http, pair.b, world, world.jwt_app, await code_via(world, world.jwt_app, pair.b, pair.b))
        assert before.status_code == 200, before.text
        old_access, old_refresh = before.json()["access_token"], before.json()["refresh_token"]
        old_kid = kid_of(old_access)
        # The rotation as another process (`bergfried keys rotate` is one) makes it: in the database only.
        # It signs at once, so no one has to wait for JWKS caches in this test.
        new = await world.services.keyring.rotate("RS256", publish_ahead=timedelta(0),
                                                  keep_published=timedelta(hours=1))
        assert new.kid != old_kid
        # A token the new key signed (here by the rotating process) is unknown to B's cached key set:
        # B looks the key up instead of refusing the token.
        async with world.services.store.write() as tx:
            subject = await subject_loader.load(tx.conn, world.user.id, must_be_domain=False)
            assert subject is not None
            grant = Grant(client_id=world.jwt_app.client_id, user_id=world.user.id, scopes=("openid",),
                          audience=await audience(tx, world.jwt_app), session_id=None, auth_time=tx.now, amr=("pwd",))
            issued = await issue(world.services, tx, TokenRequest(app=world.jwt_app, subject=subject, grant=grant,
                                                                  family_id=tx.new_id()))
        assert issued.access_token is not None
        assert kid_of(issued.access_token) == new.kid
        assert (await introspect(http, pair.b, world, issued.access_token))["active"] is True
        assert new.kid in [key.kid for key in (await jwks(http, pair.b.base_url)).keys]
        # B now signs with the new key; A verifies it, and A's JWKS does too.
        rotated = await refresh(http, pair.b, world, world.jwt_app, old_refresh)
        assert rotated.status_code == 200, rotated.text
        from_b = rotated.json()["access_token"]
        assert kid_of(from_b) == new.kid
        assert kid_of(rotated.json()["id_token"]) == new.kid
        assert (await introspect(http, pair.a, world, from_b))["active"] is True
        claims = jwt.decode(from_b, await jwks(http, pair.a.base_url)).claims
        assert claims["sub"] == world.user.id
        # The old key stays published until its tokens have expired.
        for server in pair.servers:
            assert {old_kid, new.kid} <= {key.kid for key in (await jwks(http, server.base_url)).keys}
        jwt.decode(old_access, await jwks(http, pair.a.base_url))
        info = await http.get(f"{pair.a.base_url}/oidc/v1/userinfo",
                              headers={"authorization": f"Bearer {from_b}"})
        assert info.status_code == 200, info.text


@pytest.mark.rule("issue 11 §1: a login begun on A (login-name page) continues on B (password page, same "
                  "cookies), and its code is redeemed on A")
async def test_login_begun_on_a_continues_on_b(pair: Pair, world: World) -> None:
    code = await code_via(world, world.web, pair.a, pair.b)
    async with httpx.AsyncClient(timeout=30) as http:
        tokens = await redeem(http, pair.a, world, world.web, code)
    assert tokens.status_code == 200, tokens.text
    async with world.services.store.read() as conn:
        sessions = (await conn.execute(sa.select(t.sessions.c.user_id, t.sessions.c.password_checked_at)
                                       .where(t.sessions.c.user_id == world.user.id))).all()
    assert len(sessions) == 1
    assert sessions[0].password_checked_at is not None


@pytest.mark.rule("issue 11 §1: another browser cannot continue a login begun on A by sending B its auth request "
                  "id (the login is bound to the first browser's cookie, whichever process sees it)")
async def test_a_login_on_a_is_bound_to_its_browser_on_b(pair: Pair, world: World) -> None:
    async with httpx.AsyncClient(timeout=30) as browser, httpx.AsyncClient(timeout=30) as stranger:
        request_id = await authorize(browser, pair.a, world.web)
        page = await login_name_step(browser, pair.a, request_id, world.login_name())
        assert page.status_code == 200
        foreign = await stranger.get(f"{pair.b.base_url}/ui/login/login", params={"authRequestID": request_id})
        assert "autocomplete=\"current-password\"" not in foreign.text
        assert world.login_name() not in foreign.text
        done = await password_step(browser, pair.b, request_id, page, world.login_name())
        assert await code_from_callback(browser, pair.b, done)


async def _state(world: World, user: HumanUser) -> UserState:
    async with world.services.store.read() as conn:
        loaded = await user_store.get(conn, user.id)
    assert isinstance(loaded, HumanUser)
    return loaded.state


@pytest.mark.rule("issue 11 §1: a user locked on A (management API LockUser) cannot log in on B")
async def test_user_locked_by_the_api_on_a_cannot_log_in_on_b(pair: Pair, world: World) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        locked = await http.post(f"{pair.a.base_url}/management/v1/users/{world.user.id}/_lock", json={},
                                 headers={"authorization": f"Bearer {world.owner_pat}"})
        assert locked.status_code == 200, locked.text
    assert await _state(world, world.user) == UserState.LOCKED
    async with httpx.AsyncClient(timeout=30) as browser:
        request_id = await authorize(browser, pair.b, world.web)
        page = await login_name_step(browser, pair.b, request_id, world.login_name())
        assert page_error(page) == "User is locked", page.text[:800]


@pytest.mark.rule("issue 11 §1 / spec/login.md §5: wrong passwords on A lock the user; the right password on B "
                  "then gets 'User is locked' and no session")
async def test_user_locked_by_wrong_passwords_on_a_cannot_log_in_on_b(pair: Pair, world: World) -> None:
    user = await world.another_user()
    name = world.login_name(user)
    async with httpx.AsyncClient(timeout=30) as browser:
        request_id = await authorize(browser, pair.a, world.web)
        for attempt in range(3):
            page = await login_name_step(browser, pair.a, request_id, name)
            wrong = await password_step(browser, pair.a, request_id, page, name, f"Wrong{attempt}!pass")
            assert page_error(wrong) == "Password is invalid"
        assert await _state(world, user) == UserState.LOCKED
        page = await login_name_step(browser, pair.b, request_id, name)
        assert page_error(page) == "User is locked"
        right = await password_step(browser, pair.b, request_id, page, name, PASSWORD)
        assert right.status_code == 200
        assert page_error(right) == "User is locked"
    async with world.services.store.read() as conn:
        sessions = (await conn.execute(sa.select(sa.func.count()).select_from(t.sessions)
                                       .where(t.sessions.c.user_id == user.id))).scalar_one()
    assert sessions == 0
