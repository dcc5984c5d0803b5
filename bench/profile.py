"""`python -m bench.profile OP [--backend sqlite|postgresql] [--seconds N]`: seed a small world,
start Bergfried, drive OP with wrk and record the server with py-spy (flame graph SVG and a
top-functions text dump in bench/results/profile-OP-BACKEND.*)."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import drivers, procs
from bench import world as world_module
from bench.run import MASTERKEY, PG_URL, PORTS, Backend, reset_postgres
from bench.world import REDIRECT_URI


async def main_async(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bergfried-profile-"))
    if args.backend == "postgresql":
        await reset_postgres()
        backend = Backend("postgresql", PG_URL, PORTS["postgresql"])
    else:
        backend = Backend("sqlite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}", PORTS["sqlite"])
    backend.world = w = await world_module.seed(backend.services, n_users=2000, n_meta=5)
    backend.server = server = procs.start_bergfried(backend.kind, backend.url, backend.port, MASTERKEY, workdir)
    try:
        token = await backend.user_token()
        envs = {
            "cc_jwt": {"WRK_METHOD": "POST", "WRK_PATH": "/oauth/v2/token",
                       "WRK_BODY": "grant_type=client_credentials&scope=openid",
                       "WRK_AUTH": drivers.basic(w.jwt_machine, w.jwt_machine_secret)},
            "cc_opaque": {"WRK_METHOD": "POST", "WRK_PATH": "/oauth/v2/token",
                          "WRK_BODY": "grant_type=client_credentials&scope=openid",
                          "WRK_AUTH": drivers.basic(w.opaque_machine, w.opaque_machine_secret)},
            "userinfo": {"WRK_METHOD": "GET", "WRK_PATH": "/oidc/v1/userinfo", "WRK_AUTH": f"Bearer {token}"},
            "introspection": {"WRK_METHOD": "POST", "WRK_PATH": "/oauth/v2/introspect", "WRK_BODY": f"token={token}",
                              "WRK_AUTH": drivers.basic(w.api_client_id, w.api_secret)},
        }
        if args.op in ("code", "refresh"):
            pool = await (backend.codes(20000) if args.op == "code" else backend.refresh_tokens(20000))
            path = workdir / "pool.txt"
            path.write_text("\n".join(pool) + "\n")
            body = (f"grant_type=authorization_code&code=%s&redirect_uri={REDIRECT_URI}" if args.op == "code"
                    else "grant_type=refresh_token&refresh_token=%s")
            envs[args.op] = {"WRK_METHOD": "POST", "WRK_PATH": "/oauth/v2/token", "WRK_BODY": body,
                             "WRK_POOL": str(path), "WRK_AUTH": drivers.basic(w.web_client_id, w.web_secret)}
        out = procs.BENCH / "results" / f"profile-{args.op}-{backend.kind}"
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        recorder = subprocess.Popen([spy, "record", "--pid", str(server.proc.pid), "--duration", str(args.seconds),
                                     "--format", "raw", "--output", f"{out}.txt", "--nonblocking", "--gil"])
        result = procs.wrk(server.base, args.seconds, connections=32, env=envs[args.op])
        recorder.wait()
        print(result)
        print(f"folded stacks: {out}.txt")
    finally:
        server.stop()
        await backend.services.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("op", choices=["cc_jwt", "cc_opaque", "userinfo", "introspection", "code", "refresh"])
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--seconds", type=int, default=8)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
