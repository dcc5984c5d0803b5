"""The outbox worker delivers logout tokens to a live local receiver (Back-Channel Logout 1.0
§2.5; spec/backchannel-logout.md §3; the issue's delivery rules)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from bergfried.oidc import backchannel_delivery
from bergfried.oidc.backchannel_delivery import deliver_batch
from tests.conftest import Database
from tests.logout.conftest import backchannel_app, outbox_rows, verify
from tests.logout.receiver import Receiver, receiving
from tests.oidc.conftest import Resources, issue_tokens, new_session, other_process

END_SESSION = "/oidc/v1/end_session"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as live:
        yield live


async def _logout(res: Resources, receiver: Receiver, apps: int = 1) -> str:
    """A session with tokens for `apps` back-channel apps, ended by RP-initiated logout."""
    session_id = await new_session(res)
    hint = None
    for n in range(apps):
        app = await backchannel_app(res, f"rp{n}", f"{receiver.url}/{n}")
        issued = await issue_tokens(res, app, "openid", session_id=session_id)
        hint = hint or issued.id_token
    assert hint is not None
    assert (await res.client.get(END_SESSION, params={"id_token_hint": hint})).status_code == 200
    return session_id


@pytest.mark.rule("Back-Channel Logout §2.5: POST form-encoded logout_token; a 2xx ends it, once")
async def test_delivered_once_and_verifiable(res: Resources, receiver: Receiver) -> None:
    session_id = await _logout(res, receiver, apps=2)
    assert await deliver_batch(res.services) == 2
    assert len(receiver.tokens) == 2
    assert sorted(path for path, _, _ in receiver.requests) == ["/backchannel/0", "/backchannel/1"]
    for _, content_type, body in receiver.requests:
        assert content_type == "application/x-www-form-urlencoded"
        assert list(parse_qs(body)) == ["logout_token"]
    for token in receiver.tokens:
        header, claims = await verify(res, token)
        assert header["typ"] == "logout+jwt"
        assert claims["sid"] == session_id
    assert all(row.delivered_at is not None for row in await outbox_rows(res))
    assert await deliver_batch(res.services) == 0
    assert len(receiver.requests) == 2


@pytest.mark.rule("the issue: a receiver's 4xx/5xx is retried after a backoff, a 2xx ends it")
@pytest.mark.parametrize("status", [400, 404, 500, 503])
async def test_error_status_is_retried_after_backoff(res: Resources, receiver: Receiver, status: int) -> None:
    await _logout(res, receiver)
    receiver.script.append(status)
    assert await deliver_batch(res.services) == 1
    [row] = await outbox_rows(res)
    assert row.delivered_at is None
    assert row.attempts == 1
    assert row.last_error == f"HTTP {status}"
    assert await deliver_batch(res.services) == 0  # not due before the backoff
    res.clock.advance(backchannel_delivery.backoff(1))
    assert await deliver_batch(res.services) == 1
    [row] = await outbox_rows(res)
    assert row.delivered_at is not None
    assert len(receiver.tokens) == 1
    assert len(receiver.requests) == 2


@pytest.mark.rule("the issue: a receiver's time-out is retried; outbound POSTs have a timeout")
async def test_timeout_is_retried(res: Resources, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backchannel_delivery, "TIMEOUT", 0.3)
    await _logout(res, receiver)
    receiver.script.append(2.0)
    assert await deliver_batch(res.services) == 1
    [row] = await outbox_rows(res)
    assert row.delivered_at is None
    assert "Timeout" in row.last_error


@pytest.mark.rule("the issue: outbound POSTs do not follow redirects; a 3xx is retried")
async def test_redirect_is_not_followed(res: Resources, receiver: Receiver) -> None:
    await _logout(res, receiver)
    receiver.script.append(302)
    await deliver_batch(res.services)
    assert [path for path, _, _ in receiver.requests] == ["/backchannel/0"]
    [row] = await outbox_rows(res)
    assert row.delivered_at is None
    assert row.last_error == "HTTP 302"


@pytest.mark.rule("the issue: retries with backoff and a bound; then the row is given up")
async def test_retries_are_bounded(res: Resources, receiver: Receiver) -> None:
    await _logout(res, receiver)
    [row] = await outbox_rows(res)
    receiver.script.extend([500] * row.max_attempts)
    for attempt in range(1, row.max_attempts + 1):
        assert await deliver_batch(res.services) == 1
        res.clock.advance(backchannel_delivery.backoff(attempt))
    [row] = await outbox_rows(res)
    assert row.failed_at is not None
    assert row.delivered_at is None
    assert await deliver_batch(res.services) == 0
    assert len(receiver.requests) == row.max_attempts


def test_backoff_doubles_up_to_a_bound() -> None:
    waits = [backchannel_delivery.backoff(n) for n in range(1, 12)]
    assert waits[:4] == [timedelta(seconds=s) for s in (1, 2, 4, 8)]
    assert max(waits) == backchannel_delivery.MAX_BACKOFF


@pytest.mark.rule("the issue: a process that dies holding a claim loses it when the lease runs out")
async def test_expired_lease_is_claimed_again(res: Resources, receiver: Receiver) -> None:
    await _logout(res, receiver)
    [claimed] = await backchannel_delivery.claim(res.services.store, 10)  # then the process "dies"
    assert await deliver_batch(res.services) == 0
    res.clock.advance(backchannel_delivery.LEASE)
    assert await deliver_batch(res.services) == 1
    assert receiver.tokens == [claimed.logout_token]


@pytest.mark.rule("the issue: several processes claim rows safely; each token is delivered once")
async def test_two_processes_deliver_each_token_once(res: Resources, receiver: Receiver, database: Database,
                                                     tmp_path: Path) -> None:
    await _logout(res, receiver, apps=6)
    other, engine = await other_process(database, tmp_path)
    try:
        totals = await asyncio.gather(*(deliver_batch(s, limit=2) for s in [res.services, other] * 4))
    finally:
        await engine.dispose()
    assert sum(totals) == 6
    assert len(receiver.requests) == 6
    assert len(set(receiver.tokens)) == 6
