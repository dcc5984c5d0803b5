"""`bergfried keys rotate` as an operator runs it, on SQLite: one line naming the new key and when it
signs, the rotation in the database, and one-line errors (or a usage error) otherwise."""

from __future__ import annotations

import re
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

from bergfried.crypto import masterkey
from bergfried.crypto.aead import Sealer
from bergfried.keys.keyring import PUBLISH_AHEAD, KeyRing
from bergfried.store import signing_keys
from bergfried.store.engine import create_engine
from bergfried.store.signing_keys import SigningKey
from bergfried.store.tx import Store, utcnow
from tests.conftest import MASTERKEY
from tests.processes import clean_env, run_cli

ROTATED = re.compile(r"new signing key (\d+) \((RS256|ES256|EdDSA)\) published; it signs from "
                     r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)Z\n")


@asynccontextmanager
async def opened(database: Path) -> AsyncIterator[Store]:
    engine = create_engine(f"sqlite+aiosqlite:///{database}", pool_size=1)
    try:
        yield Store(engine)
    finally:
        await engine.dispose()


async def keys_in(database: Path) -> list[SigningKey]:
    async with opened(database) as store, store.read() as conn:
        return await signing_keys.published(conn, utcnow())


async def migrated_with_one_key(tmp_path: Path) -> tuple[Path, str]:
    database = tmp_path / "bergfried.db"
    result = run_cli(["migrate", "--database-url", f"sqlite+aiosqlite:///{database}"], tmp_path, clean_env())
    assert result.returncode == 0, result.stderr
    async with opened(database) as store:
        keyring = KeyRing(store, Sealer(masterkey.from_text(MASTERKEY), "signing-keys"), issuer="http://x")
        await keyring.ensure_key("RS256")
    (key,) = await keys_in(database)
    return database, key.kid


def rotate(database: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = clean_env(BERGFRIED_DATABASE_URL=f"sqlite+aiosqlite:///{database}", **env)
    return run_cli(["keys", "rotate", *args], cwd, environment)


def the_one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("bergfried: error: ")
    return lines[0]


async def test_rotate_prints_the_new_kid_and_when_it_signs_and_retires_the_old_key_then(tmp_path: Path) -> None:
    database, old_kid = await migrated_with_one_key(tmp_path)
    before = utcnow()
    result = rotate(database, tmp_path, "--algorithm", "ES256", BERGFRIED_MASTERKEY=MASTERKEY)
    after = utcnow()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    match = ROTATED.fullmatch(result.stdout)
    assert match, result.stdout
    kid, algorithm, signs_from_text = match.groups()
    assert algorithm == "ES256"
    keys = {key.kid: key for key in await keys_in(database)}
    assert set(keys) == {kid, old_kid}
    new, old = keys[kid], keys[old_kid]
    assert new.algorithm == "ES256"
    assert abs(new.signs_from - datetime.fromisoformat(signs_from_text + "+00:00")) < timedelta(seconds=1)
    assert before + PUBLISH_AHEAD - timedelta(seconds=1) <= new.signs_from <= after + PUBLISH_AHEAD
    assert old.retired_at == new.signs_from
    assert old.published_until == new.signs_from + timedelta(hours=12)  # the default token lifetimes


async def test_rotate_takes_the_algorithm_from_the_settings_by_default(tmp_path: Path) -> None:
    database, _ = await migrated_with_one_key(tmp_path)
    result = rotate(database, tmp_path, BERGFRIED_MASTERKEY=MASTERKEY, BERGFRIED_SIGNING_ALGORITHM="EdDSA")
    assert result.returncode == 0, result.stderr
    match = ROTATED.fullmatch(result.stdout)
    assert match
    assert match.group(2) == "EdDSA"
    assert len(await keys_in(database)) == 2


async def test_an_unknown_algorithm_is_a_usage_error_and_changes_nothing(tmp_path: Path) -> None:
    database, _ = await migrated_with_one_key(tmp_path)
    result = rotate(database, tmp_path, "--algorithm", "HS256", BERGFRIED_MASTERKEY=MASTERKEY)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "--algorithm" in result.stderr
    assert "HS256" in result.stderr
    assert len(await keys_in(database)) == 1


async def test_a_master_key_that_does_not_open_the_current_key_is_one_error_line(tmp_path: Path) -> None:
    database, _ = await migrated_with_one_key(tmp_path)
    line = the_one_error_line(rotate(database, tmp_path, BERGFRIED_MASTERKEY="z" * 32))
    assert "master key" in line
    assert len(await keys_in(database)) == 1


def test_without_a_master_key_nothing_is_made_up(tmp_path: Path) -> None:
    line = the_one_error_line(rotate(tmp_path / "bergfried.db", tmp_path))
    assert "BERGFRIED_MASTERKEY" in line
    assert not (tmp_path / "data").exists()


def test_an_unmigrated_database_is_one_error_line_that_says_to_migrate(tmp_path: Path) -> None:
    line = the_one_error_line(rotate(tmp_path / "empty.db", tmp_path, BERGFRIED_MASTERKEY=MASTERKEY))
    assert "bergfried migrate" in line


def test_purge_reports_what_it_deleted_and_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    """`bergfried purge` (store/purge.py) from the command line, as cron would run it."""
    database = tmp_path / "bergfried.db"
    assert run_cli(["migrate", "--database-url", f"sqlite+aiosqlite:///{database}"], tmp_path,
                   clean_env()).returncode == 0
    with sqlite3.connect(database) as conn:
        conn.execute("INSERT INTO used_assertions (issuer, jti, expires_at) VALUES ('m', 'old', '2020-01-01 00:00:00')")
    env = clean_env(BERGFRIED_DATABASE_URL=f"sqlite+aiosqlite:///{database}")
    done = run_cli(["purge"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "purged 1 rows (used_assertions 1)\n"
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM used_assertions").fetchone() == (0,)
    assert run_cli(["purge"], tmp_path, env).stdout == "purged 0 rows\n"
    line = the_one_error_line(run_cli(["purge"], tmp_path, clean_env(
        BERGFRIED_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")))
    assert "bergfried migrate" in line
