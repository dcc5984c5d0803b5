"""Helpers for tests that run the real `bergfried` console script: a clean environment, free
ports, a fresh PostgreSQL database, and servers that are always stopped."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL

BERGFRIED = Path(sys.executable).with_name("bergfried")
READY_DEADLINE = 30.0


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any BERGFRIED_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("BERGFRIED_")}
    env.update({"NO_COLOR": "1", "COLUMNS": "100", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_cli(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BERGFRIED), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty database `bergfried_e2e_<random>` on the test server; dropped afterwards.
    Yields its URL in the plain `postgresql://` form that users type."""
    name = f"bergfried_e2e_{secrets.token_hex(6)}"
    admin_url = _asyncpg_dsn(POSTGRES_URL)
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def alembic_revision(url: str) -> str | None:
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        value = await conn.fetchval("SELECT version_num FROM alembic_version")
    finally:
        await conn.close()
    return None if value is None else str(value)


@dataclass
class Server:
    """A `bergfried start` process; its output goes to files so that it can never block."""

    process: subprocess.Popen[bytes]
    port: int
    stdout_path: Path
    stderr_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")

    def wait_ready(self, deadline: float = READY_DEADLINE) -> httpx.Response:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise AssertionError(f"bergfried exited with {self.process.returncode} before it was ready:\n"
                                     f"{self.stdout()}\n{self.stderr()}")
            with suppress(httpx.TransportError):
                response = httpx.get(f"{self.base_url}/debug/ready", timeout=2)
                if response.status_code == 200:
                    return response
            time.sleep(0.1)
        raise AssertionError(f"not ready within {deadline} s:\n{self.stdout()}\n{self.stderr()}")

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM and wait: a graceful stop."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """Last resort: SIGKILL the process group this test started (workers included)."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        # Workers of a killed parent may linger in the group; never leave them behind.
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


@contextmanager
def bergfried_server(args: list[str], cwd: Path, env: dict[str, str], port: int, name: str) -> Iterator[Server]:
    stdout_path = cwd / f"{name}.stdout"
    stderr_path = cwd / f"{name}.stderr"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen([str(BERGFRIED), *args], cwd=cwd, env=env, stdout=out, stderr=err,
                                   start_new_session=True)
    server = Server(process, port, stdout_path, stderr_path)
    try:
        yield server
    finally:
        server.kill()
