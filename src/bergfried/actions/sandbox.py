"""Running one action script: JS with a time limit and a memory limit, no network, no files, no
Python object reachable (the script runs in V8 in a child process, actions/sandbox_worker.py).

The script sees only the JSON data it is given and returns the list of `api` calls it made; the
server applies them (actions/complement.py). Workers are started lazily, one request at a time
each, and replaced when one dies or overruns: the server never waits longer than the action's
timeout plus a small grace, whatever the script does.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO, Any

MEMORY_LIMIT = 64 * 1024 * 1024  # bytes of V8 heap a script may use
GRACE = 1.0  # seconds the worker may take beyond the action's timeout before it is killed
START_LIMIT = 30.0


class ScriptFailed(Exception):
    """The script threw, ran out of time or memory, or its worker died. The message is short and
    safe to show (the JS error line, never a stack)."""


@dataclass(frozen=True, slots=True)
class Script:
    name: str
    source: str
    timeout: float  # seconds


class _Worker:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - a fixed argv: this interpreter, our worker module
            [sys.executable, "-m", "bergfried.actions.sandbox_worker", str(MEMORY_LIMIT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env(),
            start_new_session=True,
        )
        ready = self._read(START_LIMIT)
        if ready is None or not ready.get("ready"):
            self.kill()
            raise ScriptFailed("the action sandbox could not be started")

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        return self.proc.stdin, self.proc.stdout

    def _read(self, limit: float) -> dict[str, Any] | None:
        _, stdout = self._pipes()
        ready, _, _ = select.select([stdout], [], [], limit)
        if not ready:
            return None
        line = stdout.readline()
        try:
            answer = json.loads(line) if line else None
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None

    def exchange(self, request: dict[str, Any], limit: float) -> dict[str, Any] | None:
        """The worker's answer, or None when it died or overran (it is then killed)."""
        stdin, _ = self._pipes()
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
            stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        return self._read(limit)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


def _env() -> dict[str, str]:
    """The worker gets the import path and nothing else from the server's environment (no secrets)."""
    keep = ("PATH", "PYTHONPATH", "VIRTUAL_ENV", "LANG", "LC_ALL", "HOME")
    return {key: os.environ[key] for key in keep if key in os.environ}


class Sandbox:
    """A small pool of workers (about 70 MB each, started only as concurrency needs them, at most
    `size` at once) shared by all event loops of the process (tests run several)."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._free: queue.Queue[_Worker] = queue.Queue()  # FIFO: the idle one had time to make its next context
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._all: list[_Worker] = []

    def _take(self) -> _Worker:
        try:
            worker = self._free.get_nowait()
        except queue.Empty:
            worker = _Worker()
            with self._lock:
                self._all.append(worker)
            return worker
        if worker.alive():
            return worker
        self._drop(worker)
        return self._take()

    def _drop(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
        threading.Thread(target=self._spawn_spare, daemon=True).start()  # the next run needn't wait for it

    def _spawn_spare(self) -> None:
        try:
            worker = _Worker()
        except (ScriptFailed, OSError):
            return
        self._give_back(worker, new=True)

    def _give_back(self, worker: _Worker, *, new: bool = False) -> None:
        with self._lock:
            if new:
                self._all.append(worker)
            surplus = len(self._all) > self.size
            if surplus:
                self._all.remove(worker)
        if surplus:
            worker.kill()
        else:
            self._free.put(worker)

    def run_blocking(self, script: Script, data: dict[str, Any]) -> list[Any]:
        request = {"name": script.name, "script": script.source, "data": data, "timeout": script.timeout}
        with self._slots:
            worker = self._take()
            started = time.monotonic()
            answer = worker.exchange(request, script.timeout + GRACE)
            if answer is None:
                self._drop(worker)
                died = time.monotonic() - started < script.timeout + GRACE  # the pipe closed: V8 ended it
                raise ScriptFailed("memory limit reached" if died else f"timeout after {script.timeout:g}s")
            if answer.get("retire"):
                self._drop(worker)
            else:
                self._give_back(worker)
        if not answer.get("ok"):
            raise ScriptFailed(str(answer.get("message") or "failed"))
        calls = answer.get("calls")
        if not isinstance(calls, list):
            raise ScriptFailed("the action's result could not be read")
        return calls

    async def run(self, script: Script, data: dict[str, Any]) -> list[Any]:
        return await asyncio.to_thread(self.run_blocking, script, data)

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.kill()


_SANDBOX: Sandbox | None = None
_SANDBOX_LOCK = threading.Lock()


def sandbox() -> Sandbox:
    """The process's pool, made on first use: processes without actions never start a worker."""
    global _SANDBOX
    with _SANDBOX_LOCK:
        if _SANDBOX is None:
            _SANDBOX = Sandbox()
        return _SANDBOX
