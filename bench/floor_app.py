"""The floors served the way Bergfried is served: a bare Starlette endpoint and one indexed
PostgreSQL read (the users primary key, through Bergfried's own engine: SQLAlchemy Core on
asyncpg), in one process under uvicorn with `bergfried start`'s settings.

    python -m bench.floor_app PORT DATABASE_URL USER_ID

The same app under granian (for the choice of ASGI server), one worker, uvloop, HTTP/1:

    BENCH_FLOOR_DB=... BENCH_FLOOR_USER=... granian --interface asgi --factory bench.floor_app:app_from_env
"""

from __future__ import annotations

import sys
from typing import Any

import orjson
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bergfried.store import tables as t
from bergfried.store.engine import create_engine


def build(database_url: str, user_id: str) -> Starlette:
    engine = create_engine(database_url, pool_size=10)
    query = sa.select(t.users.c.id, t.users.c.username).where(t.users.c.id == sa.bindparam("uid"))

    async def bare(request: Request) -> Response:
        return Response(b'{"ok":true}', media_type="application/json")

    async def pgread(request: Request) -> Response:
        async with engine.connect() as conn:
            row = (await conn.execute(query, {"uid": user_id})).one()
        return Response(orjson.dumps({"id": row.id, "username": row.username}), media_type="application/json")

    return Starlette(routes=[Route("/bare", bare), Route("/pgread", pgread)])


def app_from_env() -> Starlette:
    import os

    return build(os.environ["BENCH_FLOOR_DB"], os.environ["BENCH_FLOOR_USER"])


def main(argv: list[str]) -> None:
    port, database_url, user_id = int(argv[0]), argv[1], argv[2]
    app: Any = build(database_url, user_id)
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False, server_header=False,
                lifespan="on")


if __name__ == "__main__":
    main(sys.argv[1:])
