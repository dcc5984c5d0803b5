"""`python -m bench`: Bergfried beside its floors and the peer, in one run; see bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import drivers, procs
from bench import world as world_module
from bench.world import REDIRECT_URI, World
from bergfried.settings import load_settings

MASTERKEY = "bench-masterkey-0123456789abcdef"[:32]
PG_ADMIN = os.environ.get("BENCH_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = os.environ.get("BENCH_POSTGRES_DATABASE", "bench")
PG_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_DATABASE}"
PG_SMALL_URL = f"{PG_URL}_small"  # the 1 000-user world of the scale check
PORTS = {"sqlite": 8311, "postgresql": 8312, "floor": 8313, "peer": 8314, "postgresql-b": 8315, "small": 8316,
         "granian": 8317}
CONNECTIONS = 32
SCALE_CONNECTIONS = 4  # latency of the scale check: a light load, so p50 is service time, not queueing



def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- floors measured in this process ------------------------------------------------------------

def rs256_signs_per_second(seconds: float) -> float:
    """Raw RS256 signatures per second on one core: the keyring's library (joserfc) and key size
    (2048), the claims of a client_credentials JWT access token."""
    from joserfc.jwk import RSAKey

    from bergfried.keys import jose

    key = RSAKey.generate_key(2048, auto_kid=False)
    claims = {"iss": "http://127.0.0.1:8312", "sub": "401079219011988228", "aud": ["401079219011988228"],
              "exp": 1900000000, "iat": 1800000000, "nbf": 1800000000, "jti": "401079219011988229",
              "client_id": "bench-jwt@zitadel.127.0.0.1", "scope": "openid"}
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        jose.sign(claims, key, alg="RS256", kid="k", typ="JWT")
        count += 1
    return count / (time.perf_counter() - started)


def argon2_per_second(seconds: float) -> float:
    """argon2id verifications per second with the instance's parameters (bergfried.crypto.passwords)."""
    from bergfried.crypto.passwords import hash_password, verify_password

    stored = hash_password(world_module.PASSWORD)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds or count < 3:
        verify_password(stored, world_module.PASSWORD)
        count += 1
    return count / (time.perf_counter() - started)


# --- the world on each backend ----------------------------------------------------------------

async def reset_postgres(*names: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        for name in names or (PG_DATABASE,):
            assert name != "test", "never the shared test database"
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def settings_for(url: str, port: int) -> Any:
    return load_settings({"masterkey": MASTERKEY, "database_url": url, "port": port,
                          "external_url": f"http://127.0.0.1:{port}", "outbox_worker": False}, environ={})


class Backend:
    def __init__(self, kind: str, url: str, port: int) -> None:
        self.kind, self.url, self.port = kind, url, port
        self.services = world_module.build_services(settings_for(url, port))
        self.world: World | None = None
        self.server: procs.Server | None = None
        self.tokens: dict[str, str] = {}

    async def codes(self, count: int) -> list[str]:
        assert self.world
        return await world_module.mint_codes(self.services, self.world, count)

    async def refresh_tokens(self, count: int) -> list[str]:
        assert self.world
        return await world_module.mint_refresh_tokens(self.services, self.world, count)

    async def user_token(self, user_id: str | None = None) -> str:
        """An opaque access token of a user through a real code redemption."""
        assert self.world
        assert self.server
        code = (await world_module.mint_codes(self.services, self.world, 1,
                                              user_ids=[user_id] if user_id else None))[0]
        async with httpx.AsyncClient() as client:
            answer = await client.post(f"{self.server.base}/oauth/v2/token", data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
                headers={"Authorization": drivers.basic(self.world.web_client_id, self.world.web_secret)})
        answer.raise_for_status()
        token = str(answer.json()["access_token"])
        assert "." not in token, "the web app's access tokens are opaque"
        return token


class DbCpu:
    """CPU of the PostgreSQL backends serving the bench database between start and stop; a
    backend that exits in between counts up to its last reading (none: 0)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.before = self._read() if enabled else {}

    def _read(self) -> dict[int, float]:
        return {pid: procs.cpu_seconds(pid) for pid in procs.postgres_backends(PG_DATABASE)}

    def seconds(self) -> float:
        if not self.enabled:
            return 0.0
        after = self._read()
        return sum(max(0.0, value - self.before.get(pid, 0.0)) for pid, value in after.items())


def measure(server: procs.Server, path: str, seconds: float, env: dict[str, str], db: bool = False,
            connections: int = CONNECTIONS) -> dict[str, Any]:
    """wrk against `server`, with the server's CPU (and its database backends') per request."""
    cpu_before, db_cpu = server.cpu(), DbCpu(db)
    result = procs.wrk(server.base + path, seconds, connections=connections, env=env)
    cpu, db_seconds = server.cpu() - cpu_before, db_cpu.seconds()
    done = max(result["requests"], 1)
    seconds_run = result["duration_us"] / 1e6
    result.update(rps=result["requests"] / seconds_run, cpu_us=cpu / done * 1e6, db_cpu_us=db_seconds / done * 1e6,
                  wrk_cpu_us=result["wrk_cpu_s"] / done * 1e6, server_cpu_share=cpu / seconds_run)
    return result


def write_pool(path: Path, values: list[str]) -> str:
    path.write_text("\n".join(values) + "\n")
    return str(path)


# --- one round: every operation once on every server ---------------------------------------------

async def bergfried_ops(backend: Backend, seconds: float, workdir: Path) -> dict[str, Any]:
    assert backend.world
    assert backend.server
    w, server = backend.world, backend.server
    out: dict[str, Any] = {}
    pids = backend.kind == "postgresql"
    form = {"WRK_METHOD": "POST", "WRK_PATH": "/oauth/v2/token"}
    out["cc_jwt"] = measure(server, "/oauth/v2/token", seconds, {
        **form, "WRK_BODY": "grant_type=client_credentials&scope=openid",
        "WRK_AUTH": drivers.basic(w.jwt_machine, w.jwt_machine_secret)}, pids)
    out["cc_opaque"] = measure(server, "/oauth/v2/token", seconds, {
        **form, "WRK_BODY": "grant_type=client_credentials&scope=openid",
        "WRK_AUTH": drivers.basic(w.opaque_machine, w.opaque_machine_secret)}, pids)
    out["introspection"] = measure(server, "/oauth/v2/introspect", seconds, {
        "WRK_METHOD": "POST", "WRK_BODY": f"token={backend.tokens['user']}&token_type_hint=access_token",
        "WRK_AUTH": drivers.basic(w.api_client_id, w.api_secret)}, pids)
    out["userinfo"] = measure(server, "/oidc/v1/userinfo", seconds, {
        "WRK_METHOD": "GET", "WRK_AUTH": f"Bearer {backend.tokens['user']}"}, pids)
    pool = int(max(2000, 1500 * seconds))
    refresh = write_pool(workdir / f"refresh-{backend.kind}.txt", await backend.refresh_tokens(pool))
    out["refresh"] = measure(server, "/oauth/v2/token", seconds, {
        **form, "WRK_BODY": "grant_type=refresh_token&refresh_token=%s", "WRK_POOL": refresh,
        "WRK_AUTH": drivers.basic(w.web_client_id, w.web_secret)}, pids)
    codes = write_pool(workdir / f"codes-{backend.kind}.txt", await backend.codes(pool))
    out["code"] = measure(server, "/oauth/v2/token", seconds, {
        **form, "WRK_BODY": f"grant_type=authorization_code&code=%s&redirect_uri={REDIRECT_URI}",
        "WRK_POOL": codes, "WRK_AUTH": drivers.basic(w.web_client_id, w.web_secret)}, pids)
    cpu_before, db_cpu = server.cpu(), DbCpu(pids)
    logins = await drivers.login_load(server.base, w, seconds * 2, concurrency=4)
    done = max(logins["ops"].get("login", {}).get("count", 0), 1)
    out["login"] = {**logins["ops"].get("login", {"per_s": 0.0}), "errors": logins["errors"],
                    "first_error": logins["first_error"], "cpu_us": (server.cpu() - cpu_before) / done * 1e6,
                    "db_cpu_us": db_cpu.seconds() / done * 1e6}
    out["login"]["rps"] = out["login"]["per_s"]
    out["rss_mb"] = server.rss()
    return out


def peer_ops(peer: procs.Server, token: str, seconds: float) -> dict[str, Any]:
    auth = drivers.basic("bench", "benchsecret")
    body = "grant_type=client_credentials&scope=api%3Aread"
    return {
        "cc_jwt": measure(peer, "/token", seconds, {"WRK_METHOD": "POST", "WRK_AUTH": auth,
                                                    "WRK_BODY": body + "&resource=urn%3Abench%3Aapi"}),
        "cc_opaque": measure(peer, "/token", seconds, {"WRK_METHOD": "POST", "WRK_AUTH": auth, "WRK_BODY": body}),
        "introspection": measure(peer, "/token/introspection", seconds, {
            "WRK_METHOD": "POST", "WRK_AUTH": auth, "WRK_BODY": f"token={token}&token_type_hint=access_token"}),
    }


def peer_token(peer: procs.Server) -> str:
    answer = httpx.post(f"{peer.base}/token", data={"grant_type": "client_credentials", "scope": "api:read"},
                        auth=("bench", "benchsecret"))
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def floor_ops(floor: procs.Server, granian: procs.Server | None, seconds: float) -> dict[str, Any]:
    out = {"bare": measure(floor, "/bare", seconds, {"WRK_METHOD": "GET"}),
           "pgread": measure(floor, "/pgread", seconds, {"WRK_METHOD": "GET"}, db=True)}
    if granian is not None:  # the ASGI server choice: the same app under granian
        out["bare_granian"] = measure(granian, "/bare", seconds, {"WRK_METHOD": "GET"})
        out["pgread_granian"] = measure(granian, "/pgread", seconds, {"WRK_METHOD": "GET"}, db=True)
    return out


# --- ratios ---------------------------------------------------------------------------------------

def ratios_of(round_: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    peer = round_["peer"]
    for kind in ("sqlite", "postgresql"):
        ops = round_[kind]
        for op in ("cc_jwt", "cc_opaque", "introspection"):
            out[f"{kind}: CPU/request {op} ÷ peer's"] = ops[op]["cpu_us"] / peer[op]["cpu_us"]
        out[f"{kind}: cc_jwt req/s ÷ RS256 signs/s"] = ops["cc_jwt"]["rps"] / round_["rs256_per_s"]
        for op in ("userinfo", "introspection"):
            out[f"{kind}: {op} req/s ÷ one-PG-read floor req/s"] = ops[op]["rps"] / round_["floor"]["pgread"]["rps"]
        out[f"{kind}: logins/s ÷ argon2id/s"] = ops["login"]["rps"] / round_["argon2_per_s"]
    floor = round_["floor"]
    if "bare_granian" in floor:
        for op in ("bare", "pgread"):
            out[f"floor: {op} CPU/request granian ÷ uvicorn (info)"] = (
                floor[f"{op}_granian"]["cpu_us"] / floor[op]["cpu_us"])
    scale = round_.get("scale")
    if scale:
        for op in ("userinfo", "introspection", "cc_jwt"):
            out[f"postgresql: {op} p50 at {{users}} users ÷ 1k"] = (
                scale["large"][op]["p50_us"] / scale["small"][op]["p50_us"])
        out["postgresql: userinfo p50 with 50 metadata ÷ 0 metadata"] = (
            scale["metadata"]["50"]["p50_us"] / scale["metadata"]["0"]["p50_us"])
    return out


def target_of(name: str) -> tuple[str, float]:
    if "(info)" in name:
        return "", 0.0
    if "CPU/request" in name:
        return "≤", 1.0
    if "RS256" in name:
        return "≥", 0.5
    if "floor" in name:
        return "≥", 0.6
    if "argon2" in name:
        return "≥", 0.7
    if "flat" in name or "÷ 0 metadata" in name or "÷ 1k" in name:
        return "≤", 1.2
    return "", 0.0


def holds(name: str, value: float) -> bool:
    how, target = target_of(name)
    return value <= target if how == "≤" else value >= target


# --- the run --------------------------------------------------------------------------------------

def scale_round(large: Backend, small: Backend, seconds: float) -> dict[str, Any]:
    """Paired, in every round: the same operations on the 1 000-user world and on the large one,
    and userinfo of a user with 50 metadata entries and of one with none, at a light load."""
    out: dict[str, Any] = {}
    for name, backend in (("small", small), ("large", large)):
        assert backend.world
        assert backend.server
        w = backend.world
        out[name] = {
            "userinfo": measure(backend.server, "/oidc/v1/userinfo", seconds, {
                "WRK_AUTH": f"Bearer {backend.tokens['user']}"}, connections=SCALE_CONNECTIONS),
            "introspection": measure(backend.server, "/oauth/v2/introspect", seconds, {
                "WRK_METHOD": "POST", "WRK_BODY": f"token={backend.tokens['user']}",
                "WRK_AUTH": drivers.basic(w.api_client_id, w.api_secret)}, connections=SCALE_CONNECTIONS),
            "cc_jwt": measure(backend.server, "/oauth/v2/token", seconds, {
                "WRK_METHOD": "POST", "WRK_BODY": "grant_type=client_credentials&scope=openid",
                "WRK_AUTH": drivers.basic(w.jwt_machine, w.jwt_machine_secret)}, connections=SCALE_CONNECTIONS),
        }
    assert large.server
    out["metadata"] = {count: measure(large.server, "/oidc/v1/userinfo", seconds, {
        "WRK_AUTH": f"Bearer {large.tokens[token]}"}, connections=SCALE_CONNECTIONS)
        for count, token in (("50", "heavy"), ("0", "bare"))}
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    seconds = args.seconds or 2.0
    runs = args.runs or (1 if quick else 5)
    n_users = args.users or (2000 if quick else 10000)
    workdir = Path(tempfile.mkdtemp(prefix="bergfried-bench-"))
    log(f"workdir {workdir}; {runs} run(s) × {seconds}s per operation; {n_users} users")
    await reset_postgres(PG_DATABASE, f"{PG_DATABASE}_small")
    backends = [Backend("sqlite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}", PORTS["sqlite"]),
                Backend("postgresql", PG_URL, PORTS["postgresql"])]
    small = Backend("postgresql-small", PG_SMALL_URL, PORTS["small"])
    servers: list[procs.Server] = []
    result: dict[str, Any] = {"started": datetime.now(UTC).isoformat(), "quick": quick, "seconds": seconds,
                              "runs": runs, "connections": CONNECTIONS, "machine": machine(), "rounds": []}
    try:
        for backend in [*backends, small]:
            started = time.monotonic()
            backend.world = await world_module.seed(backend.services,
                                                    n_users=1000 if backend is small else n_users, n_meta=5)
            log(f"seeded {backend.kind}: {backend.world.users} users in {time.monotonic() - started:.1f}s")
            backend.server = procs.start_bergfried(backend.kind, backend.url, backend.port, MASTERKEY, workdir)
            servers.append(backend.server)
            backend.tokens["user"] = await backend.user_token()
        pg = backends[1]
        assert pg.world
        pg.tokens["heavy"] = await pg.user_token(pg.world.heavy_user_id)
        pg.tokens["bare"] = await pg.user_token(pg.world.bare_user_id)
        floor = procs.start_floor(PG_URL, PORTS["floor"], pg.world.user_ids[0], workdir)
        peer = procs.start_peer(PORTS["peer"], workdir)
        servers += [floor, peer]
        granian = None
        if Path(sys.executable).with_name("granian").exists():
            granian = procs.start_floor_granian(PG_URL, PORTS["granian"], pg.world.user_ids[0], workdir)
            servers.append(granian)
        result["world"] = {b.kind: b.world.as_json() for b in [*backends, small] if b.world}
        token = peer_token(peer)
        for index in range(runs):
            log(f"round {index + 1}/{runs}")
            round_: dict[str, Any] = {"rs256_per_s": rs256_signs_per_second(1.0),
                                      "argon2_per_s": argon2_per_second(1.0)}
            for backend in backends:
                round_[backend.kind] = await bergfried_ops(backend, seconds, workdir)
            round_["peer"] = peer_ops(peer, token, seconds)
            round_["floor"] = floor_ops(floor, granian, seconds)
            round_["scale"] = scale_round(pg, small, seconds)
            round_["ratios"] = ratios_of(round_)
            result["rounds"].append(round_)
            for name, value in round_["ratios"].items():
                log(f"  {name}: {value:.2f}")
        result["rss_mb"] = {b.kind: [r[b.kind]["rss_mb"] for r in result["rounds"]] for b in backends}
        result["explain"] = await world_module.explain(pg.services, pg.world)
    finally:
        for server in servers:
            server.stop()
        for backend in [*backends, small]:
            await backend.services.close()
    result["summary"] = summarize(result)
    return result


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "cpu": _cpu_model(), "loadavg_at_start": load,
            "node": subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip(),
            "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout.split("\n")[0]}


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "?"


def summarize(result: dict[str, Any]) -> dict[str, Any]:
    rounds = result["rounds"]
    names = list(rounds[0]["ratios"]) if rounds else []
    ratios = {name: statistics.median(r["ratios"][name] for r in rounds) for name in names}
    users = result.get("world", {}).get("postgresql", {}).get("users", "?")
    ratios = {name.replace("{users}", str(users)): value for name, value in ratios.items()}
    medians: dict[str, Any] = {}
    for kind in ("sqlite", "postgresql", "peer", "floor"):
        ops = rounds[0].get(kind, {}) if rounds else {}
        medians[kind] = {op: {key: statistics.median(r[kind][op][key] for r in rounds)
                              for key in ("rps", "cpu_us", "db_cpu_us", "p50_us", "p99_us", "wrk_cpu_us")
                              if key in ops[op]}
                         | {"failed": sum(_failures(r[kind][op]) for r in rounds)}
                         for op in ops if isinstance(ops[op], dict)}
    medians["rs256_per_s"] = statistics.median(r["rs256_per_s"] for r in rounds) if rounds else 0
    medians["argon2_per_s"] = statistics.median(r["argon2_per_s"] for r in rounds) if rounds else 0
    return {"ratios": {name: {"value": value, "target": " ".join(map(str, target_of(name))) if target_of(name)[0]
                              else "–",
                              "holds": holds(name, value)} for name, value in ratios.items()},
            "medians": medians}


def _failures(row: dict[str, Any]) -> int:
    if "errors" in row and isinstance(row["errors"], dict):
        return sum(row["errors"].values())
    return int(row.get("non2xx", 0) + row.get("socket_errors", 0) + row.get("pool_exhausted", 0))


def print_table(result: dict[str, Any]) -> None:
    summary = result["summary"]
    print(f"\nBergfried benchmarks — {result['runs']} paired run(s) × {result['seconds']}s per operation, "
          f"wrk -t1 -c{result['connections']}, median per ratio\n")
    print(f"{'ratio':<66} {'value':>7}  {'target':>7}  holds")
    for name, row in summary["ratios"].items():
        verdict = "–" if row["target"] == "–" else "yes" if row["holds"] else "NO"
        print(f"{name:<66} {row['value']:7.2f}  {row['target']:>7}  {verdict}")
    print(f"\n{'server / operation':<34} {'req/s':>8} {'CPU µs/req':>10} {'DB µs/req':>9} {'p50 ms':>7} "
          f"{'p99 ms':>7} {'wrk µs/req':>10} {'failed':>6}")
    for kind in ("sqlite", "postgresql", "peer", "floor"):
        for op, row in summary["medians"][kind].items():
            print(f"{kind + ' ' + op:<34} {row['rps']:8.0f} {row['cpu_us']:10.0f} {row.get('db_cpu_us', 0):9.0f} "
                  f"{row.get('p50_us', 0) / 1000:7.1f} {row.get('p99_us', 0) / 1000:7.1f} "
                  f"{row.get('wrk_cpu_us', 0):10.0f} {row['failed']:6d}")
    print(f"raw RS256 signs/s (one core): {summary['medians']['rs256_per_s']:.0f}; "
          f"argon2id verifications/s: {summary['medians']['argon2_per_s']:.1f}")
    if "rss_mb" in result:
        print("RSS per worker after each round (MB): " + "; ".join(
            f"{kind} " + ", ".join(f"{v:.0f}" for v in values) for kind, values in result["rss_mb"].items()))


# --- soak -------------------------------------------------------------------------------------------

async def soak_async(args: argparse.Namespace) -> dict[str, Any]:
    minutes = args.minutes
    workdir = Path(tempfile.mkdtemp(prefix="bergfried-soak-"))
    await reset_postgres()
    backend = Backend("postgresql", PG_URL, PORTS["postgresql"])
    backend.world = await world_module.seed(backend.services, n_users=args.users or 10000, n_meta=5)
    a = procs.start_bergfried("soak-a", PG_URL, PORTS["postgresql"], MASTERKEY, workdir)
    b = procs.start_bergfried("soak-b", PG_URL, PORTS["postgresql-b"], MASTERKEY, workdir)
    samples: list[dict[str, Any]] = []
    started = time.monotonic()

    def sample() -> None:
        samples.append({"t": round(time.monotonic() - started, 1), "a_mb": a.rss(), "b_mb": b.rss()})
        log(f"soak t={samples[-1]['t']}s RSS a={samples[-1]['a_mb']:.0f} MB b={samples[-1]['b_mb']:.0f} MB")

    try:
        tally = await drivers.soak([a.base, b.base], backend.world, minutes * 60, args.concurrency, sample,
                                    sample_every=5.0)
    finally:
        a.stop()
        b.stop()
        await backend.services.close()
    # argon2id allocates 64 MiB per password check while it runs: a sample can catch one. The
    # steady state of a window is its smallest sample; growth = last window's minus the window's
    # at half time.
    end_t = samples[-1]["t"]
    mid = [s for s in samples if end_t / 2 <= s["t"] < end_t * 3 / 4] or samples[:1]
    last = [s for s in samples if s["t"] >= end_t * 3 / 4] or samples[-1:]
    growth = {key: min(s[key] for s in last) - min(s[key] for s in mid) for key in ("a_mb", "b_mb")}
    return {"started": datetime.now(UTC).isoformat(), "minutes": minutes, "concurrency": args.concurrency,
            "machine": machine(), "result": tally, "rss_samples": samples, "rss_growth_last_half_mb": growth,
            "max_rss_mb": max(max(s["a_mb"], s["b_mb"]) for s in samples),
            "steady_rss_mb": {key: min(s[key] for s in last) for key in ("a_mb", "b_mb")}}


def print_soak(result: dict[str, Any]) -> None:
    tally = result["result"]
    print(f"\nsoak: {result['minutes']} min, two bergfried processes on one PostgreSQL, round-robin, "
          f"{result['concurrency']} virtual users")
    print(f"5xx answers: {tally['errors5xx']} (target 0); errors by operation: {tally['errors']}")
    for op, row in tally["ops"].items():
        print(f"  {op:<20} {row['count']:7d} done  {row['per_s']:7.1f}/s  p50 {row['p50_us'] / 1000:6.1f} ms  "
              f"p99 {row['p99_us'] / 1000:6.1f} ms")
    print(f"RSS at the end (steady, MB): {result['steady_rss_mb']} (target ≤ 120); max seen "
          f"{result['max_rss_mb']:.0f} MB; growth over the last half: "
          + ", ".join(f"{k} {v:+.1f} MB" for k, v in result["rss_growth_last_half_mb"].items()))


def measure_commit(argv: list[str], ref: str, patch: Path | None) -> None:
    """Re-run this command on a snapshot of `ref`'s src/ (git archive, nothing in the checkout
    changes): the numbers belong to a commit, not to whatever the working tree holds just now.
    `patch` (a `git diff` of src/) is applied to the snapshot only: an A/B of a change without
    touching the checkout other sessions work in."""
    sha = subprocess.run(["git", "rev-parse", "--short", ref], cwd=procs.ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    label = sha
    if patch is not None:
        import hashlib

        label = f"{sha}+{patch.stem}-{hashlib.sha256(patch.read_bytes()).hexdigest()[:8]}"
    target = Path(tempfile.gettempdir()) / f"bergfried-bench-src-{label}"
    if not (target / "src" / "bergfried").exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha, "src"], cwd=procs.ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
        if patch is not None:
            subprocess.run(["patch", "-p1", "-d", str(target), "-i", str(patch.resolve())], check=True)
    env = {**os.environ, "PYTHONPATH": f"{target / 'src'}:{procs.ROOT}", "BENCH_COMMIT": label}
    os.execve(sys.executable, [sys.executable, "-m", "bench", *argv], env)


def reprint(path: Path) -> None:
    """The table of a stored full run, its summary recomputed from the rounds it holds."""
    result = json.loads(path.read_text())
    result["summary"] = summarize(result)
    print_table(result)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--table"]:
        reprint(Path(argv[1]))
        return
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one short run per operation (development)")
    parser.add_argument("--runs", type=int, help="paired runs (default 5, --quick 1)")
    parser.add_argument("--seconds", type=float, help="wrk duration per operation (default 2)")
    parser.add_argument("--users", type=int, help="users in the world (default 10000, --quick 2000)")
    parser.add_argument("--soak", action="store_true", help="mixed load on two processes on PostgreSQL")
    parser.add_argument("--minutes", type=float, default=10.0, help="soak duration (default 10)")
    parser.add_argument("--concurrency", type=int, default=8, help="soak virtual users")
    parser.add_argument("--output", type=Path, help="JSON file (default bench/results/<time>.json)")
    parser.add_argument("--commit", default="HEAD", help="measure this commit's src/ (default HEAD)")
    parser.add_argument("--working-tree", action="store_true", help="measure src/ as it is, uncommitted changes too")
    parser.add_argument("--patch", type=Path, help="apply this diff of src/ to the measured snapshot (A/B)")
    args = parser.parse_args(argv)
    if not args.working_tree and "BENCH_COMMIT" not in os.environ:
        measure_commit(argv, args.commit, args.patch)
    import bergfried

    log(f"measuring {os.environ.get('BENCH_COMMIT', 'the working tree')}: {Path(bergfried.__file__).parent}")
    started = time.monotonic()
    if args.soak:
        result = asyncio.run(soak_async(args))
        print_soak(result)
        name = "soak"
    else:
        result = asyncio.run(main_async(args))
        print_table(result)
        name = "quick" if args.quick else "full"
    result["wall_seconds"] = time.monotonic() - started
    result["commit"] = os.environ.get("BENCH_COMMIT", "working tree")
    out = args.output or procs.BENCH / "results" / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str))
    print(f"\nwall time {result['wall_seconds']:.0f}s; JSON: {out}")
