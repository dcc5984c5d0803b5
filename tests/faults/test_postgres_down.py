"""Issue 11 §3: PostgreSQL stopped and started under a running `bergfried start` (a private cluster,
never the shared server). While it is down, the token endpoint, userinfo, the management API and the
login pages answer 503 with `Retry-After` and a JSON error; once it is back they succeed again, with
no restart of Bergfried."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bergfried import services as services_module
from tests.conftest import MASTERKEY, make_settings
from tests.faults import pgcluster
from tests.faults.world import Loaded, build, tokens
from tests.processes import Server, bergfried_server, clean_env, free_port

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(pgcluster.missing() is not None, reason=f"no private PostgreSQL cluster: "
                                                                          f"{pgcluster.missing()}")]

Probe = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]
UP = {"token": 400, "userinfo": 200, "management": 200, "login": 200}  # 400: a made-up code, checked in the db


def probes(loaded: Loaded, access_token: str, request_id: str) -> dict[str, Probe]:
    async def token(http: httpx.AsyncClient) -> httpx.Response:
        return await http.post("/oauth/v2/token", auth=(loaded.app.client_id, loaded.secret), data={
            "grant_type": "authorization_code", "code": "made-up", "redirect_uri": "https://app.example.com/cb"})

    async def userinfo(http: httpx.AsyncClient) -> httpx.Response:
        return await http.get("/oidc/v1/userinfo", headers={"authorization": f"Bearer {access_token}"})

    async def management(http: httpx.AsyncClient) -> httpx.Response:
        return await http.get(f"/management/v1/users/{loaded.user.id}", headers=loaded.owner_headers())

    async def login(http: httpx.AsyncClient) -> httpx.Response:
        return await http.get("/ui/login/login", params={"authRequestID": request_id})

    return {"token": token, "userinfo": userinfo, "management": management, "login": login}


def assert_unavailable(name: str, answer: httpx.Response) -> None:
    assert answer.status_code == 503, (name, answer.status_code, answer.text[:300])
    assert int(answer.headers["retry-after"]) > 0
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["code"] == 14, body  # UNAVAILABLE
    assert "Traceback" not in answer.text


async def answers(base_url: str, checks: dict[str, Probe], browser: httpx.Cookies) -> dict[str, httpx.Response]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30, cookies=browser) as http:
        return {name: await probe(http) for name, probe in checks.items()}


async def _load(server: Server, checks: dict[str, Probe], browser: httpx.Cookies, stop: asyncio.Event,
                seen: Counter[object]) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30, cookies=browser) as http:
        while not stop.is_set():
            for name, probe in checks.items():
                try:
                    answer = await probe(http)
                except httpx.TransportError as exc:
                    seen[type(exc).__name__] += 1
                    continue
                seen[(name, answer.status_code)] += 1
                assert answer.status_code in (UP[name], 503), (name, answer.status_code, answer.text[:300])
                if answer.status_code == 503:
                    assert_unavailable(name, answer)
            await asyncio.sleep(0.01)


@pytest.mark.rule("issue 11 §3: PostgreSQL stopped during load → 503 + Retry-After + JSON error on token, "
                  "userinfo, management API and login pages; back → success without a restart of Bergfried")
async def test_postgresql_stopped_and_started_under_load(tmp_path: Path) -> None:
    with pgcluster.private_cluster() as cluster:
        port = free_port()
        env = clean_env(BERGFRIED_PORT=str(port), BERGFRIED_DATABASE_URL=cluster.url, BERGFRIED_MASTERKEY=MASTERKEY,
                        BERGFRIED_EXTERNAL_URL=f"http://127.0.0.1:{port}", BERGFRIED_OUTBOX_WORKER="false")
        with bergfried_server(["start"], tmp_path, env, port, "server") as server:
            await asyncio.to_thread(server.wait_ready)
            services = services_module.build(make_settings(tmp_path, database_url=cluster.url,
                                                           external_url=server.base_url))
            try:
                loaded = await build(services)
                access_token, _ = await tokens(loaded)
            finally:
                await services.close()
            async with httpx.AsyncClient(base_url=server.base_url) as http:
                started = await http.get("/oauth/v2/authorize", params={
                    "client_id": loaded.app.client_id, "redirect_uri": "https://app.example.com/cb",
                    "response_type": "code", "scope": "openid"})
            assert started.status_code == 302, started.text
            request_id = parse_qs(urlsplit(started.headers["location"]).query)["authRequestID"][0]
            checks = probes(loaded, access_token, request_id)
            async with httpx.AsyncClient(base_url=server.base_url) as http:  # the browser the login is bound to
                assert (await checks["login"](http)).status_code == 200
                browser = http.cookies
            assert {name: a.status_code for name, a in (await answers(server.base_url, checks, browser)).items()} == UP

            stop, seen = asyncio.Event(), Counter[object]()
            load = [asyncio.create_task(_load(server, checks, browser, stop, seen)) for _ in range(8)]
            try:
                await asyncio.sleep(0.5)
                await asyncio.to_thread(cluster.stop, "fast")  # every pooled connection is cut
                for name, answer in (await answers(server.base_url, checks, browser)).items():
                    assert_unavailable(name, answer)
                await asyncio.sleep(0.5)
                await asyncio.to_thread(cluster.start)
                end = time.monotonic() + 20
                while True:
                    got = {name: a.status_code for name, a in (await answers(server.base_url, checks, browser)).items()}
                    if got == UP or time.monotonic() > end:
                        break
                    await asyncio.sleep(0.2)
                assert got == UP
                await asyncio.sleep(0.5)
            finally:
                stop.set()
                await asyncio.gather(*load)
            assert server.process.poll() is None  # the same process throughout
            assert not [k for k in seen if isinstance(k, str)], seen  # no connection was dropped
            assert sum(n for k, n in seen.items() if isinstance(k, tuple) and k[1] == 503) > 0, seen
            assert "Traceback" not in server.stdout()
            unavailable = [line for line in server.stderr().splitlines() if "database_unavailable" in line]
            assert unavailable
            assert all("reason=" in line for line in unavailable)  # the operator learns why
            assert "nested_connection" not in server.stderr()
