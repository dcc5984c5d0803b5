"""The sandbox worker: a child process that runs action scripts in V8 (mini-racer), one request a
line on stdin, one answer a line on stdout (`python -m bergfried.actions.sandbox_worker`).

Why a process of its own: V8 ends the whole process on some out-of-memory paths (a huge
`Array.prototype.fill` outruns the heap-limit callback), which must never take the provider
down. Here it takes down only this worker; the server sees the pipe close, fails the action and
starts a new worker. Each script gets a fresh context (nothing one run leaves, such as a polluted
`Object.prototype`, reaches the next), a time limit (V8 terminates the script) and a heap limit.
No Python function is ever handed to V8, so a script reaches nothing but the data it was given.
After a timeout or an exhausted heap the worker answers and exits: V8 may still be busy with the
terminated script (a builtin such as `fill` is not interrupted), and nothing should wait for it.
"""

from __future__ import annotations

import json
import os
import select
import sys
import time
from importlib import resources
from typing import Any

# Small heap: a script that outgrows it ends this worker quickly instead of using the machine's memory.
V8_FLAGS = ("--single-threaded", "--max-old-space-size=128", "--max-semi-space-size=8")
STOCK = 3  # contexts kept ready: a trigger's actions run back to back
PREPARE_LIMIT = 5.0  # the top-level script must load within 5 s (ZITADEL `maxPrepareTimeout`)


def _message(exc: Exception) -> str:
    """The JS error's own line (`Error: boom`), never V8's source excerpt or stack."""
    for line in str(exc).splitlines():
        line = line.strip()
        if line.startswith("<anonymous>:"):
            line = line.split(": ", 1)[-1] if ": " in line else line
        if line:
            return line[:300]
    return type(exc).__name__


def fresh(prelude: str, memory: int) -> Any:
    """A new context with the prelude loaded: made while the worker waits for the next request,
    so creating it (most of a run's cost) is off the request's path."""
    from py_mini_racer import MiniRacer

    ctx = MiniRacer()
    ctx.set_hard_memory_limit(memory)
    ctx.eval(prelude)
    return ctx


def run(request: dict[str, Any], ctx: Any) -> dict[str, Any]:
    """Run one script in `ctx` (used once, then closed by the caller)."""
    from py_mini_racer import JSOOMException, JSTimeoutException

    deadline = time.monotonic() + float(request["timeout"])
    try:
        ctx.eval("const __bergfriedRun = __bergfriedPrepare(" + json.dumps(request["data"]) + ");")
        ctx.eval(request["script"], timeout_sec=max(0.001, min(PREPARE_LIMIT, deadline - time.monotonic())))
        out = ctx.eval("__bergfriedRun(" + json.dumps(request["name"]) + ")",
                       timeout_sec=max(0.001, deadline - time.monotonic()))
        if not isinstance(out, str):
            return {"ok": False, "error": "exception", "message": "the action's result could not be read"}
        return {"ok": True, "calls": json.loads(out)}
    except JSTimeoutException:
        return {"ok": False, "error": "timeout", "message": f"timeout after {request['timeout']}s", "retire": True}
    except JSOOMException:
        return {"ok": False, "error": "memory", "message": "memory limit reached", "retire": True}
    except Exception as exc:  # any JS exception or parse error: the script's fault, reported as such
        return {"ok": False, "error": "exception", "message": _message(exc)}


class _Lines:
    """Requests from stdin, one a line, read with os.read so `pending` knows when one waits."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""

    def pending(self) -> bool:
        return b"\n" in self.buffer or bool(select.select([self.fd], [], [], 0)[0])

    def next(self) -> bytes | None:
        while b"\n" not in self.buffer:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line


def _answer(line: bytes, ctx: Any) -> dict[str, Any]:
    try:
        return run(json.loads(line), ctx)
    except Exception as exc:  # a malformed request from the server: answer, don't die
        return {"ok": False, "error": "exception", "message": f"bad request: {type(exc).__name__}"}


def main() -> None:
    """Serve requests; between them, while none waits, close used contexts and make fresh ones, so
    a request with several actions in a row never waits for a context to be made."""
    import py_mini_racer

    py_mini_racer.init_mini_racer(flags=V8_FLAGS, ignore_duplicate_init=True)
    prelude = resources.files("bergfried.actions").joinpath("prelude.js").read_text(encoding="utf-8")
    memory = int(sys.argv[1]) if len(sys.argv) > 1 else 64 * 1024 * 1024
    stock: list[Any] = [fresh(prelude, memory)]
    used: list[Any] = []
    lines, out = _Lines(sys.stdin.fileno()), sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    while True:
        if not lines.pending() and (used or len(stock) < STOCK):
            if used:
                used.pop().close()
            else:
                stock.append(fresh(prelude, memory))
            continue
        line = lines.next()
        if line is None:  # the server is gone
            os._exit(0)
        ctx = stock.pop(0) if stock else fresh(prelude, memory)
        answer = _answer(line, ctx)
        try:
            out.write(json.dumps(answer) + "\n")
            out.flush()
        except OSError:  # the server is gone
            os._exit(0)
        if answer.get("retire"):
            # A terminated isolate may still be busy (and a normal exit would wait for it): leave at
            # once; the server starts a new worker instead.
            os._exit(0)
        used.append(ctx)


if __name__ == "__main__":
    main()
