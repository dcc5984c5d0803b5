"""Back-channel logout across real `bergfried start` processes on one fresh PostgreSQL database,
with a live local receiver (the issue: what was queued survives a restart; two processes deliver
each token once). Each received token is verified against the live JWKS with joserfc and with
openid-client (tests/e2e/node/logout.mjs)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import KeySet

from bergfried import services as services_module
from bergfried.claims import subject as subject_loader
from bergfried.domain.apps import Application, AuthMethodType, GrantType, OIDCConfig
from bergfried.services import Services
from bergfried.store import sessions as session_store
from bergfried.store import tables as t
from bergfried.store.tokens import Grant
from bergfried.tokens.issue import TokenRequest, audience, issue
from tests.conftest import MASTERKEY, make_settings
from tests.factories import make_org, make_project, make_user, make_web_app
from tests.logout.receiver import Receiver, receiving
from tests.processes import Server, bergfried_server, clean_env, free_port, fresh_postgres_database

NODE_LOGOUT = Path(__file__).parents[1] / "e2e" / "node" / "logout.mjs"
EVENT = "http://schemas.openid.net/event/backchannel-logout"


def _env(url: str, port: int, *, worker: bool, issuer_port: int | None = None) -> dict[str, str]:
    """Processes of one deployment share one issuer (external URL) whatever port each listens on."""
    return clean_env(BERGFRIED_PORT=str(port), BERGFRIED_DATABASE_URL=url, BERGFRIED_MASTERKEY=MASTERKEY,
                     BERGFRIED_EXTERNAL_URL=f"http://127.0.0.1:{issuer_port or port}",
                     BERGFRIED_OUTBOX_WORKER=str(worker).lower(),
                     BERGFRIED_OUTBOX_POLL_INTERVAL="0.2")


async def _world(services: Services, receiver: Receiver, apps: int) -> tuple[Any, list[Application]]:
    org = await make_org(services.store, "ACME")
    user = await make_user(services.store, org, "road.runner", password=None)
    project = await make_project(services.store, org, "shop")
    made = []
    for n in range(apps):
        made.append(await make_web_app(services.store, project, f"rp{n}", OIDCConfig(
            redirect_uris=(f"https://rp{n}.example.com/cb",), back_channel_logout_uri=f"{receiver.url}/{n}",
            grant_types=(GrantType.AUTHORIZATION_CODE,), auth_method_type=AuthMethodType.BASIC)))
    return user, made


async def _logged_in(services: Services, user: Any, apps: list[Application]) -> str:
    """A login session in which every app got tokens; returns an ID token of it."""
    async with services.store.write() as tx:
        session = await session_store.create(tx, user.id, None, org_id=user.org_id, password_checked_at=tx.now)
    id_token = ""
    for app in apps:
        async with services.store.write() as tx:
            subject = await subject_loader.load(tx.conn, user.id, must_be_domain=False)
            assert subject is not None
            grant = Grant(client_id=app.client_id, user_id=user.id, scopes=("openid",),
                          audience=await audience(tx, app), session_id=session.id, auth_time=tx.now, amr=("pwd",))
            issued = await issue(services, tx, TokenRequest(app=app, subject=subject, grant=grant,
                                                            family_id=tx.new_id()))
            id_token = id_token or (issued.id_token or "")
    return id_token


async def _end_session(server: Server, id_token: str) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{server.base_url}/oidc/v1/end_session", params={"id_token_hint": id_token})
    assert response.status_code == 200, response.text


async def _wait_for(receiver: Receiver, count: int, deadline: float = 30) -> None:
    end = time.monotonic() + deadline
    for _ in range(int(deadline * 10)):
        if len(receiver.tokens) >= count or time.monotonic() > end:
            break
        await asyncio.sleep(0.1)
    assert len(receiver.tokens) >= count, receiver.requests


async def _verified(server: Server, token: str, client_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        keys = KeySet.import_key_set((await http.get(f"{server.base_url}/oauth/v2/keys")).json())
    decoded = jwt.decode(token, keys)
    assert decoded.header["typ"] == "logout+jwt"
    node = await asyncio.to_thread(subprocess.run, ["node", str(NODE_LOGOUT), server.base_url, client_id, token],
                                   capture_output=True, text=True, timeout=60, check=False)
    assert node.returncode == 0, node.stderr
    assert json.loads(node.stdout)["claims"] == decoded.claims
    return dict(decoded.claims)


async def _services(tmp_path: Path, url: str, issuer: str) -> Services:
    return services_module.build(make_settings(tmp_path / "test-side", database_url=url, external_url=issuer))


@pytest.mark.rule("the issue: kill the provider between the logout and the delivery; delivered after restart")
async def test_queued_logout_survives_a_kill(tmp_path: Path) -> None:
    async with fresh_postgres_database() as url:
        port = free_port()
        with receiving() as receiver, \
                bergfried_server(["start"], tmp_path, _env(url, port, worker=False), port, "first") as first:
                await asyncio.to_thread(first.wait_ready)
                services = await _services(tmp_path, url, first.base_url)
                try:
                    user, [app] = await _world(services, receiver, 1)
                    await _end_session(first, await _logged_in(services, user, [app]))
                    async with services.store.read() as conn:
                        rows = (await conn.execute(sa.select(t.outbox))).all()
                    assert [row.delivered_at for row in rows] == [None]
                    first.kill()  # SIGKILL: no graceful shutdown
                    assert receiver.requests == []
                    with bergfried_server(["start"], tmp_path, _env(url, port, worker=True), port, "second") as second:
                        await asyncio.to_thread(second.wait_ready)
                        await _wait_for(receiver, 1)
                        claims = await _verified(second, receiver.tokens[0], app.client_id)
                        assert claims["sub"] == user.id
                        assert claims["events"] == {EVENT: {}}
                        async with services.store.read() as conn:
                            row = (await conn.execute(sa.select(t.outbox))).one()
                        assert row.delivered_at is not None
                finally:
                    await services.close()


@pytest.mark.rule("the issue: two processes on one PostgreSQL deliver each token once")
async def test_two_processes_deliver_each_token_once(tmp_path: Path) -> None:
    async with fresh_postgres_database() as url:
        ports = [free_port(), free_port()]
        with receiving() as receiver, \
                bergfried_server(["start"], tmp_path, _env(url, ports[0], worker=True), ports[0], "one") as one:
                await asyncio.to_thread(one.wait_ready)
                env = _env(url, ports[1], worker=True, issuer_port=ports[0])
                with bergfried_server(["start"], tmp_path, env, ports[1], "two") as two:
                    await asyncio.to_thread(two.wait_ready)
                    services = await _services(tmp_path, url, one.base_url)
                    try:
                        user, apps = await _world(services, receiver, 3)
                        hints = [await _logged_in(services, user, apps) for _ in range(4)]
                        for n, hint in enumerate(hints):
                            await _end_session([one, two][n % 2], hint)
                        await _wait_for(receiver, 12)
                        await asyncio.sleep(2)  # time for a duplicate to show up, were there one
                        assert len(receiver.requests) == 12
                        async with httpx.AsyncClient() as http:
                            keys = KeySet.import_key_set((await http.get(f"{two.base_url}/oauth/v2/keys")).json())
                        jtis = [jwt.decode(token, keys).claims["jti"] for token in receiver.tokens]
                        assert len(set(jtis)) == 12
                        async with services.store.read() as conn:
                            rows = (await conn.execute(sa.select(t.outbox))).all()
                        assert len(rows) == 12
                        assert all(row.delivered_at is not None and row.attempts == 1 for row in rows)
                    finally:
                        await services.close()
