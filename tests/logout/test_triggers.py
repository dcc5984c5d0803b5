"""Every way a session ends queues back-channel logout tokens and revokes the session's tokens at
once: DeleteSession (session API v2), the user deactivated, locked or removed (management API)
(the issue's list; spec/backchannel-logout.md §2)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import KeySet

from bergfried.claims import subject as subject_loader
from bergfried.domain.apps import Application, GrantType, OIDCConfig
from bergfried.store import projects
from bergfried.store import tables as t
from bergfried.store.tokens import Grant
from bergfried.tokens.issue import TokenRequest, audience, issue
from tests.api_v2.conftest import V2, v2, world  # noqa: F401  (fixtures used by name)
from tests.factories import make_web_app

EVENT = "http://schemas.openid.net/event/backchannel-logout"
URI = "https://rp.example.com/backchannel"


async def _tokens_in_session(v2: V2, session_id: str) -> Application:  # noqa: F811
    """A back-channel app that got tokens in the session, as the token endpoint would issue them."""
    services = v2.w.services
    async with services.store.read() as conn:
        project = await projects.get(conn, v2.app.project_id)
    app = await make_web_app(services.store, project, "bcl", OIDCConfig(
        redirect_uris=("https://rp.example.com/cb",), back_channel_logout_uri=URI,
        grant_types=(GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN)))
    async with services.store.write() as tx:
        subject = await subject_loader.load(tx.conn, v2.alice.id, must_be_domain=False)
        assert subject is not None
        grant = Grant(client_id=app.client_id, user_id=v2.alice.id, scopes=("openid", "offline_access"),
                      audience=await audience(tx, app), session_id=session_id, auth_time=tx.now, amr=("pwd",))
        await issue(services, tx, TokenRequest(app=app, subject=subject, grant=grant, family_id=tx.new_id()))
    return app


async def _queued(v2: V2) -> list[dict[str, Any]]:  # noqa: F811
    keys = KeySet.import_key_set((await v2.w.client.get("/oauth/v2/keys")).json())
    async with v2.w.services.store.read() as conn:
        rows = (await conn.execute(sa.select(t.outbox))).all()
    return [dict(jwt.decode(row.payload["logout_token"], keys).claims) for row in rows]


async def _live_tokens(v2: V2, session_id: str) -> int:  # noqa: F811
    async with v2.w.services.store.read() as conn:
        count = 0
        for table in (t.access_tokens, t.refresh_tokens):
            count += len((await conn.execute(sa.select(table.c.id).where(
                table.c.session_id == session_id, table.c.revoked_at.is_(None)))).all())
    return count


async def _assert_logged_out(v2: V2, session_id: str, app: Application) -> None:  # noqa: F811
    [claims] = await _queued(v2)
    assert claims["sid"] == session_id
    assert claims["sub"] == v2.alice.id
    assert claims["aud"] == [app.client_id]
    assert claims["events"] == {EVENT: {}}
    assert "nonce" not in claims
    assert await _live_tokens(v2, session_id) == 0


@pytest.mark.rule("the issue: a session deleted through the API reaches its applications")
async def test_delete_session(v2: V2) -> None:  # noqa: F811
    session_id, token = await v2.session()
    app = await _tokens_in_session(v2, session_id)
    assert await _live_tokens(v2, session_id) == 2
    response = await v2.call("DELETE", f"/v2/sessions/{session_id}", v2.login_pat, json={"sessionToken": token})
    assert response.status_code == 200, response.text
    await _assert_logged_out(v2, session_id, app)


@pytest.mark.rule("the issue: the user deactivated, locked or removed ends its sessions")
@pytest.mark.parametrize(("method", "action"), [("POST", "/_deactivate"), ("POST", "/_lock"), ("DELETE", "")])
async def test_user_state_ends_sessions(v2: V2, method: str, action: str) -> None:  # noqa: F811
    session_id, _ = await v2.session()
    app = await _tokens_in_session(v2, session_id)
    response = await v2.call(method, f"/management/v1/users/{v2.alice.id}{action}", v2.w.owner,
                             json={} if method == "POST" else None)
    assert response.status_code == 200, response.text
    await _assert_logged_out(v2, session_id, app)


async def test_reactivate_and_unlock_queue_nothing(v2: V2) -> None:  # noqa: F811
    session_id, _ = await v2.session()
    await _tokens_in_session(v2, session_id)
    base = f"/management/v1/users/{v2.alice.id}"
    assert (await v2.call("POST", base + "/_lock", v2.w.owner, json={})).status_code == 200
    assert (await v2.call("POST", base + "/_unlock", v2.w.owner, json={})).status_code == 200
    assert len(await _queued(v2)) == 1  # the lock's, nothing more
