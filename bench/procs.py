"""Processes of the benchmark: Bergfried, the floor app, the peer; their CPU and memory from /proc,
and wrk."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BERGFRIED = Path(sys.executable).with_name("bergfried")
PEER_SOURCE = ROOT.parent / "shared" / "peer" / "oidc-provider"
PEER_DIR = Path(os.environ.get("BENCH_PEER_DIR", "/tmp/bergfried-bench-peer"))
CLK_TCK = os.sysconf("SC_CLK_TCK")
LUA = BENCH / "lua" / "request.lua"


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    extra_pids: list[int] = field(default_factory=list)  # e.g. PostgreSQL backends, measured apart

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        return [self.proc.pid, *children(self.proc.pid)]

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())

    def rss(self) -> float:
        return sum(rss_mb(pid) for pid in self.pids())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready: {log.read_text()[-2000:]}")


def start_bergfried(name: str, database_url: str, port: int, masterkey: str, workdir: Path) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BERGFRIED_")}
    env.update({"BERGFRIED_DATABASE_URL": database_url, "BERGFRIED_MASTERKEY": masterkey,
                "BERGFRIED_PORT": str(port), "BERGFRIED_EXTERNAL_URL": f"http://127.0.0.1:{port}",
                "BERGFRIED_LOG_LEVEL": "warning", "BERGFRIED_WORKERS": "1", "BERGFRIED_LOG_FORMAT": "json",
                # all load comes from 127.0.0.1: the per-IP rate limits would measure themselves
                "BERGFRIED_RATE_LIMIT_TOKEN_PER_IP": "0", "BERGFRIED_RATE_LIMIT_PASSWORD_PER_IP": "0",
                "BERGFRIED_RATE_LIMIT_PASSWORD_PER_NAME": "0"})
    log = workdir / f"{name}.log"
    proc = subprocess.Popen([str(BERGFRIED), "start"], cwd=workdir, env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)
    wait_ready(f"http://127.0.0.1:{port}/debug/ready", proc, log)
    return Server(name, port, proc, log)


def start_floor(database_url: str, port: int, user_id: str, workdir: Path) -> Server:
    log = workdir / "floor.log"
    proc = subprocess.Popen([sys.executable, "-m", "bench.floor_app", str(port), database_url, user_id], cwd=ROOT,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    wait_ready(f"http://127.0.0.1:{port}/bare", proc, log)
    return Server("floor", port, proc, log)


def start_floor_granian(database_url: str, port: int, user_id: str, workdir: Path) -> Server:
    log = workdir / "floor-granian.log"
    granian = Path(sys.executable).with_name("granian")
    proc = subprocess.Popen([str(granian), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "1", "--loop", "uvloop", "--http", "1", "--no-ws", "--no-access-log",
                             "--factory", "bench.floor_app:app_from_env"], cwd=ROOT,
                            env={**os.environ, "BENCH_FLOOR_DB": database_url, "BENCH_FLOOR_USER": user_id},
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    wait_ready(f"http://127.0.0.1:{port}/bare", proc, log)
    return Server("floor-granian", port, proc, log)


def ensure_peer() -> Path:
    if not (PEER_DIR / "node_modules" / "oidc-provider").exists():
        PEER_DIR.mkdir(parents=True, exist_ok=True)
        for item in PEER_SOURCE.iterdir():
            if item.is_file():
                shutil.copy(item, PEER_DIR / item.name)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=PEER_DIR, check=True,
                       capture_output=True)
    return PEER_DIR


def start_peer(port: int, workdir: Path) -> Server:
    peer = ensure_peer()
    log = workdir / "peer.log"
    proc = subprocess.Popen(["node", str(peer / "op_server.mjs"), str(port)], cwd=peer,
                            env={**os.environ, "OP_ALG": "RS256"}, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    wait_ready(f"http://127.0.0.1:{port}/.well-known/openid-configuration", proc, log)
    return Server("peer", port, proc, log)


def postgres_backends(database: str) -> list[int]:
    """Pids of the PostgreSQL backends connected to `database` (local server, same machine)."""
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-At", "-c",
                          f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'"],
                         capture_output=True, text=True, check=False)
    return [int(line) for line in out.stdout.split() if line.strip().isdigit()]


def wrk(url: str, seconds: float, *, connections: int, threads: int = 1, env: dict[str, str]) -> dict[str, Any]:
    """One wrk run; adds wrk's own CPU (from rusage of the reaped child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run_env = {**os.environ, "WRK_THREADS": str(threads), **env}
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                          "-s", str(LUA), url], capture_output=True, text=True, env=run_env, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith('{"requests"')), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout[-1500:]} {out.stderr[-1500:]}")
    result: dict[str, Any] = json.loads(line)
    result["wrk_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["stderr"] = out.stderr.strip()[:300]
    return result
