"""RP-initiated logout queues one back-channel logout token per application that holds tokens of
the ended session, in the same transaction (OpenID Connect Back-Channel Logout 1.0;
spec/backchannel-logout.md)."""

from __future__ import annotations

import time

import pytest
from joserfc.errors import BadSignatureError

from bergfried.oidc import backchannel
from tests.logout.conftest import backchannel_app, outbox_rows, verify
from tests.oidc.conftest import Resources, issue_tokens, new_session, resigned

END_SESSION = "/oidc/v1/end_session"
EVENT = "http://schemas.openid.net/event/backchannel-logout"


async def _logged_in_everywhere(res: Resources) -> tuple[str, str, list[str]]:
    """A session in which two back-channel apps and the web app (no URI) got tokens."""
    session_id = await new_session(res)
    one = await backchannel_app(res, "one", "https://one.example.com/bcl")
    two = await backchannel_app(res, "two", "https://two.example.com/bcl")
    issued = await issue_tokens(res, one, "openid", session_id=session_id)
    await issue_tokens(res, two, "openid offline_access", session_id=session_id)
    await issue_tokens(res, res.web, "openid", session_id=session_id)
    assert issued.id_token is not None
    return session_id, issued.id_token, [one.client_id, two.client_id]


@pytest.mark.rule("Back-Channel Logout §2.4, §2.5; spec/backchannel-logout.md §2, §4: one token per client, "
                  "typ logout+jwt, aud the client, sid the session, events member, no nonce")
async def test_end_session_queues_a_logout_token_per_application(res: Resources) -> None:
    session_id, id_token, clients = await _logged_in_everywhere(res)
    response = await res.client.get(END_SESSION, params={"id_token_hint": id_token})
    assert response.status_code == 200
    rows = await outbox_rows(res)
    assert sorted(row.payload["client_id"] for row in rows) == sorted(clients)
    assert {row.destination for row in rows} == {"https://one.example.com/bcl", "https://two.example.com/bcl"}
    for row in rows:
        assert row.kind == "backchannel_logout"
        assert row.delivered_at is None
        assert row.attempts == 0
        header, claims = await verify(res, row.payload["logout_token"])
        assert header["typ"] == "logout+jwt"
        assert claims["aud"] == [row.payload["client_id"]]
        assert claims["iss"] == res.services.settings.issuer
        assert claims["sub"] == res.user.id
        assert claims["sid"] == session_id
        assert claims["events"] == {EVENT: {}}
        assert claims["jti"] == row.id
        assert "nonce" not in claims
        assert claims["iat"] <= time.time() + 1 < claims["exp"] <= time.time() + 15 * 60 + 1


@pytest.mark.rule("Back-Channel Logout §2.6: the token is signed with the OP's key; another key fails")
async def test_logout_token_signature_is_the_providers(res: Resources) -> None:
    _, id_token, _ = await _logged_in_everywhere(res)
    await res.client.get(END_SESSION, params={"id_token_hint": id_token})
    token = (await outbox_rows(res))[0].payload["logout_token"]
    with pytest.raises(BadSignatureError):
        await verify(res, resigned(token))


@pytest.mark.rule("spec/backchannel-logout.md §2: nothing is queued for an app without a URI or a session "
                  "that is already over")
async def test_second_logout_queues_nothing(res: Resources) -> None:
    session_id = await new_session(res)
    issued = await issue_tokens(res, res.web, "openid", session_id=session_id)
    assert issued.id_token is not None
    assert (await res.client.get(END_SESSION, params={"id_token_hint": issued.id_token})).status_code == 200
    assert await outbox_rows(res) == []
    one = await backchannel_app(res, "late", "https://late.example.com/bcl")
    await issue_tokens(res, one, "openid", session_id=session_id)
    assert (await res.client.get(END_SESSION, params={"id_token_hint": issued.id_token})).status_code == 200
    assert await outbox_rows(res) == []


async def test_logout_rolls_back_with_its_notifications(res: Resources) -> None:
    """The outbox row and the session's end commit together: a failure after queueing leaves neither."""
    session_id, _, _ = await _logged_in_everywhere(res)
    queued: list[int] = []

    async def crash_after_queueing() -> None:
        async with res.services.store.write() as tx:
            queued.append(await backchannel.queue(res.services, tx, session_id, res.user.id))
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        await crash_after_queueing()
    assert queued == [2]
    assert await outbox_rows(res) == []


@pytest.mark.rule("spec/backchannel-logout.md §2: implicit flows register their client too; an app that only got "
                  "an ID token (response_type id_token) in the session is told")
async def test_an_id_token_only_client_gets_a_logout_token(res: Resources) -> None:
    from datetime import timedelta

    from bergfried.domain.auth_requests import AuthRequest
    from bergfried.store import auth_requests

    session_id = await new_session(res)
    implicit = await backchannel_app(res, "implicit", "https://implicit.example.com/bcl")
    unanswered = await backchannel_app(res, "unanswered", "https://unanswered.example.com/bcl")
    async with res.services.store.write() as tx:
        for app, answered in ((implicit, True), (unanswered, False)):
            request_id = tx.new_id()
            await auth_requests.create(tx, AuthRequest(
                id=request_id, client_id=app.client_id, redirect_uri="https://x.example.com/cb", scopes=("openid",),
                response_type="id_token", created_at=tx.now, expires_at=tx.now + timedelta(minutes=5), nonce="n"))
            await auth_requests.link_session(tx, request_id, session_id=session_id, user_id=res.user.id,
                                             auth_time=tx.now, amr=["pwd"])
            if answered:
                assert await auth_requests.consume(tx, request_id)
        assert await backchannel.clients_of_session(tx, session_id) == [implicit.client_id]
        assert await backchannel.end_session(res.services, tx, session_id)
    rows = await outbox_rows(res)
    assert [row.payload["client_id"] for row in rows] == [implicit.client_id]
    _, claims = await verify(res, rows[0].payload["logout_token"])
    assert claims["sid"] == session_id
    assert "nonce" not in claims
