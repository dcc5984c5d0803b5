"""Issue 11 §3: `kill -9` of a real `bergfried start` process while 20 clients create users and
applications through the management API and rotate refresh tokens; after a restart on the same
database (a fresh PostgreSQL database, or a SQLite file in WAL mode) every invariant holds, SQLite's
`integrity_check` is ok, and everything the server acknowledged is there."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from bergfried import services as services_module
from bergfried.store import tables as t
from tests.conftest import MASTERKEY, make_settings
from tests.faults.invariants import assert_whole
from tests.faults.world import Load, build, tokens, wait_until
from tests.processes import bergfried_server, clean_env, free_port

pytestmark = pytest.mark.e2e
ACKNOWLEDGED = 40  # answers of 200 before the kill: every kind of write is in flight by then



def _env(url: str, port: int) -> dict[str, str]:
    return clean_env(BERGFRIED_PORT=str(port), BERGFRIED_DATABASE_URL=url, BERGFRIED_MASTERKEY=MASTERKEY,
                     BERGFRIED_EXTERNAL_URL=f"http://127.0.0.1:{port}", BERGFRIED_OUTBOX_WORKER="false",
                     BERGFRIED_DATABASE_POOL_SIZE="4")


@pytest.mark.rule("issue 11 §3: kill -9 under load, restart: no half-written user, application or token family, "
                  "every change has its event, every acknowledged write survived")
async def test_kill_nine_under_load_then_restart(tmp_path: Path, database_url: str) -> None:
    port = free_port()
    with bergfried_server(["start"], tmp_path, _env(database_url, port), port, "first") as first:
        await asyncio.to_thread(first.wait_ready)
        settings = make_settings(tmp_path, database_url=database_url, external_url=first.base_url)
        services = services_module.build(settings)
        try:
            loaded = await build(services)
            load = Load(loaded, first.base_url)
            clients = await load.run(20)

            async def busy() -> bool:
                return load.statuses[200] >= ACKNOWLEDGED  # writes of every kind are in flight

            await wait_until(busy, 60)
            first.kill()  # SIGKILL to the process group: no shutdown, no rollback by us
            load.stop.set()
            await asyncio.gather(*clients)
            assert load.statuses[200] >= ACKNOWLEDGED
            assert not any(isinstance(k, int) and k >= 500 for k in load.statuses), load.statuses
            assert load.users
            assert load.apps
            await assert_whole(services.store)
            with bergfried_server(["start"], tmp_path, _env(database_url, port), port, "second") as second:
                await asyncio.to_thread(second.wait_ready)
                await assert_whole(services.store)
                async with services.store.read() as conn:
                    users = set((await conn.execute(sa.select(t.users.c.id))).scalars().all())
                    apps = set((await conn.execute(sa.select(t.applications.c.id))).scalars().all())
                assert set(load.users) <= users  # acknowledged means durable
                assert set(load.apps) <= apps
                async with httpx.AsyncClient(base_url=second.base_url, timeout=30) as http:
                    got = await http.get(f"/management/v1/users/{load.users[-1]}",
                                         headers=loaded.owner_headers())
                    assert got.status_code == 200, got.text
                    _, refresh = await tokens(loaded)
                    rotated = await http.post("/oauth/v2/token", auth=(loaded.app.client_id, loaded.secret),
                                              data={"grant_type": "refresh_token", "refresh_token": refresh})
                    assert rotated.status_code == 200, rotated.text
                assert "Traceback" not in second.stderr()
            assert "nested_connection" not in first.stderr() + first.stdout()
            if database_url.startswith("sqlite"):
                check = sqlite3.connect(database_url.split(":///", 1)[1])
                try:
                    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                finally:
                    check.close()
        finally:
            await services.close()
