"""`python -m bench.reads`: the cost of a read's connection handling, in one process, A and B
interleaved (the full harness cannot resolve a 5 % change: its rounds move ±15 %).

- `txn` vs `autocommit`: one `SELECT 1` on a pooled PostgreSQL connection inside `BEGIN`/`ROLLBACK`
  (what `Store.read` did) against the same in autocommit (what it does on PostgreSQL now).
- `two` vs `one`: two reads of one statement each on connections of their own (introspection's
  caller, then its token, as it was) against both statements on one connection (as it is now),
  on PostgreSQL (autocommit, pool pre-ping) and on SQLite (`BEGIN`).
Prints the median over the rounds of CPU and wall µs per operation (of this process only: the
database's own work is not in it).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bergfried.store.engine import create_engine

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
SELECT = sa.text("SELECT 1")


async def _in_txn(engine: AsyncEngine, statements: int) -> None:
    async with engine.connect() as conn, conn.begin():
        for _ in range(statements):
            await conn.execute(SELECT)


async def _autocommit(engine: AsyncEngine, statements: int) -> None:
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        for _ in range(statements):
            await conn.execute(SELECT)


async def _read(engine: AsyncEngine, statements: int) -> None:
    if engine.dialect.name == "postgresql":
        await _autocommit(engine, statements)
    else:
        await _in_txn(engine, statements)


async def _measure(variants: dict[str, Callable[[], Awaitable[None]]], rounds: int, n: int) -> None:
    for run in variants.values():
        for _ in range(200):
            await run()
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(n):
                await run()
            samples[name].append(((time.perf_counter() - wall) / n * 1e6, (time.process_time() - cpu) / n * 1e6))
    for name, values in samples.items():
        cpus = sorted(round(v[1]) for v in values)
        print(f"  {name:28} CPU µs/op median {statistics.median(cpus):5.0f} (rounds {cpus}), "
              f"wall {statistics.median(v[0] for v in values):5.0f}")


async def main(rounds: int = 7, n: int = 2000) -> None:
    postgres = create_engine(POSTGRES)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'reads.db'}")
        try:
            print("PostgreSQL, one read of one statement:")
            await _measure({"BEGIN/ROLLBACK": lambda: _in_txn(postgres, 1),
                            "autocommit": lambda: _autocommit(postgres, 1)}, rounds, n)
            for name, engine in (("PostgreSQL (autocommit)", postgres), ("SQLite", sqlite)):
                print(f"{name}, two statements:")
                await _measure({"two connections": lambda e=engine: _two(e),
                                "one connection": lambda e=engine: _read(e, 2)}, rounds, n)
        finally:
            await postgres.dispose()
            await sqlite.dispose()


async def _two(engine: AsyncEngine) -> None:
    await _read(engine, 1)
    await _read(engine, 1)


if __name__ == "__main__":
    asyncio.run(main(*(int(a) for a in sys.argv[1:3])))
