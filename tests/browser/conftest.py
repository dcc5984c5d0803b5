"""Real Debian chromium driven by Playwright (its own browser download does not work here, so
`executable_path` points at /usr/bin/chromium), and a live Bergfried server in a thread."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from bergfried.web.app import create_app
from tests.conftest import make_settings

CHROMIUM = os.environ.get("BERGFRIED_TEST_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """uvicorn in a background thread, stopped at teardown (as httpx's own test suite does)."""

    def __init__(self, app: Any, port: int, settings: Any = None) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.settings = settings  # what the server runs with, for tests that seed its database
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                                    access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/debug/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("live server did not become ready")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """Bergfried on SQLite, migrated and bootstrapped, serving on a free port."""
    from bergfried import services as services_module
    from bergfried.bootstrap import bootstrap
    from bergfried.store.migrate import migrate

    port = free_port()
    settings = make_settings(tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'live.db'}", port=port)

    async def prepare() -> None:
        built = services_module.build(settings)
        try:
            await migrate(built.engine)
            await bootstrap(built)
        finally:
            await built.close()

    asyncio.run(prepare())
    with LiveServer(create_app(settings), port, settings) as server:
        yield server


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()
