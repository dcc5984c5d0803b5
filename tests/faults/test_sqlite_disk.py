"""Issue 11 §3 on SQLite: a full disk and a read-only file give a clear error (503 with Retry-After
and a JSON error, or one line from the CLI at start), never a 500 or a damaged file
(`PRAGMA integrity_check` is `ok` afterwards, the invariants hold). The database lives on a small
tmpfs this test mounts, which needs root; elsewhere the test is skipped and says so."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import httpx
import pytest

from bergfried import services as services_module
from bergfried.bootstrap import bootstrap
from bergfried.services import Services
from bergfried.store.migrate import migrate
from bergfried.web.app import create_app
from tests.conftest import MASTERKEY, make_settings
from tests.faults.invariants import assert_whole
from tests.faults.world import MGMT, Loaded, build, tokens
from tests.processes import clean_env, free_port, run_cli
from tests.web.conftest import serving


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of its own."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (full disk, read-only file system) needs root")
    mounted = _mount("-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(disk))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        _mount("-o", "remount,rw", str(disk))
        with suppress(Exception):
            subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=30, check=False)


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


async def _world(disk: Path, tmp_path: Path) -> tuple[Services, Loaded]:
    services = services_module.build(make_settings(tmp_path, database_url=f"sqlite+aiosqlite:///{disk / 'b.db'}"))
    await migrate(services.engine)
    await bootstrap(services)
    await services.keyring.ensure_key("RS256")
    return services, await build(services)


def assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text[:300]
    assert int(answer.headers["retry-after"]) > 0
    assert answer.json()["code"] == 14


async def _add_user(http: httpx.AsyncClient, loaded: Loaded, name: str) -> httpx.Response:
    return await http.post(f"{MGMT}/users/human", headers=loaded.owner_headers(), json={
        "userName": name, "profile": {"firstName": "Disk", "lastName": "Full"},
        "email": {"email": f"{name}@example.com", "isEmailVerified": True}})


@pytest.mark.rule("issue 11 §3: a full disk under SQLite → 503 + Retry-After + JSON error on writes, reads still "
                  "answer, success once there is room again, integrity_check ok")
async def test_full_disk(small_disk: Path, tmp_path: Path) -> None:
    services, loaded = await _world(small_disk, tmp_path)
    access, refresh = await tokens(loaded)
    filler = small_disk / "filler"
    try:
        async with serving(create_app(services.settings, prebuilt=services)) as http:
            assert (await _add_user(http, loaded, "before")).status_code == 200
            with filler.open("wb") as out, suppress(OSError):  # ENOSPC ends it
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            for n in range(5):  # the write-ahead log cannot grow
                assert_unavailable(await _add_user(http, loaded, f"full{n}"))
            assert_unavailable(await http.post("/oauth/v2/token", auth=(loaded.app.client_id, loaded.secret),
                                               data={"grant_type": "refresh_token", "refresh_token": refresh}))
            info = await http.get("/oidc/v1/userinfo", headers={"authorization": f"Bearer {access}"})
            assert info.status_code == 200, info.text  # reading needs no room
            filler.unlink()
            assert (await _add_user(http, loaded, "after")).status_code == 200
            rotated = await http.post("/oauth/v2/token", auth=(loaded.app.client_id, loaded.secret),
                                      data={"grant_type": "refresh_token", "refresh_token": refresh})
            assert rotated.status_code == 200, rotated.text
            await assert_whole(services.store)
    finally:
        await services.close()
    assert integrity(small_disk / "b.db") == "ok"


@pytest.mark.rule("issue 11 §3: a read-only SQLite database → `bergfried start` ends with one clear line; the app "
                  "answers 503 + Retry-After + JSON error on writes; integrity_check ok once writable again")
async def test_read_only_database(small_disk: Path, tmp_path: Path) -> None:
    services, loaded = await _world(small_disk, tmp_path)
    access, _ = await tokens(loaded)
    await services.close()
    remounted = _mount("-o", "remount,ro", str(small_disk))
    assert remounted.returncode == 0, remounted.stderr
    url = f"sqlite+aiosqlite:///{small_disk / 'b.db'}"
    started = run_cli(["start"], tmp_path, clean_env(BERGFRIED_DATABASE_URL=url, BERGFRIED_MASTERKEY=MASTERKEY,
                                                       BERGFRIED_PORT=str(free_port())), timeout=60)
    assert started.returncode != 0
    assert "Traceback" not in started.stderr + started.stdout
    lines = started.stderr.strip().splitlines()
    assert len(lines) == 1, started.stderr
    assert "read-only" in lines[0] or "readonly" in lines[0], lines[0]

    services = services_module.build(make_settings(tmp_path, database_url=url))
    try:
        async with serving(create_app(services.settings, prebuilt=services)) as http:
            assert_unavailable(await _add_user(http, loaded, "nope"))
            info = await http.get("/oidc/v1/userinfo", headers={"authorization": f"Bearer {access}"})
            assert info.status_code in (200, 503), info.text
            if info.status_code == 503:
                assert_unavailable(info)
    finally:
        await services.close()
    assert _mount("-o", "remount,rw", str(small_disk)).returncode == 0
    assert integrity(small_disk / "b.db") == "ok"
