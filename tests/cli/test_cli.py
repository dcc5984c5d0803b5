"""The real `bergfried` console script as a user runs it: exit codes, one-line errors that name
the setting, never a traceback (docs/architecture.md "Processes"; src/bergfried/cli/main.py)."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
from contextlib import closing
from importlib.metadata import version as installed_version
from pathlib import Path

import pytest

from bergfried import __version__
from bergfried.store.migrate import head_revision
from tests.conftest import POSTGRES_URL
from tests.processes import alembic_revision, clean_env, free_port, run_cli

STRONG_PASSWORD = "Str0ng-Passw0rd!"


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr
    assert "unexpected error" not in result.stderr


def the_one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert_no_traceback(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("bergfried: error: "), lines[0]
    return lines[0]


def test_version_prints_the_installed_version_and_exits_0(tmp_path: Path) -> None:
    result = run_cli(["version"], tmp_path, clean_env())
    assert result.returncode == 0
    assert result.stdout == f"bergfried {__version__}\n"
    assert __version__ == installed_version("bergfried")
    assert result.stderr == ""


def test_no_arguments_shows_the_help_with_every_command(tmp_path: Path) -> None:
    result = run_cli([], tmp_path, clean_env())
    assert_no_traceback(result)
    assert result.returncode in (0, 2)  # click's no_args_is_help: 2 since click 8.2
    shown = result.stdout + result.stderr
    assert "Usage: bergfried" in shown
    for command in ("start", "migrate", "version"):
        assert command in shown


def test_help_flag_shows_the_help_and_exits_0(tmp_path: Path) -> None:
    result = run_cli(["--help"], tmp_path, clean_env())
    assert result.returncode == 0
    assert "Usage: bergfried" in result.stdout
    assert_no_traceback(result)


def test_unknown_command_is_a_usage_error_with_exit_2(tmp_path: Path) -> None:
    result = run_cli(["frobnicate"], tmp_path, clean_env())
    assert result.returncode == 2
    assert_no_traceback(result)
    assert "No such command 'frobnicate'" in result.stderr
    assert result.stdout == ""


def test_unknown_option_is_a_usage_error_with_exit_2(tmp_path: Path) -> None:
    result = run_cli(["start", "--frobnicate"], tmp_path, clean_env())
    assert result.returncode == 2
    assert_no_traceback(result)
    assert "--frobnicate" in result.stderr
    assert not (tmp_path / "data").exists()


def test_option_of_the_wrong_type_is_a_usage_error_with_exit_2(tmp_path: Path) -> None:
    result = run_cli(["start", "--workers", "many"], tmp_path, clean_env())
    assert result.returncode == 2
    assert_no_traceback(result)
    assert "--workers" in result.stderr


BAD_SETTINGS = [
    pytest.param({"BERGFRIED_PORT": "abc"}, [], None, "BERGFRIED_PORT", id="port-not-a-number"),
    pytest.param({"BERGFRIED_MASTERKEY": "short"}, [], None, "BERGFRIED_MASTERKEY", id="masterkey-too-short"),
    pytest.param({"BERGFRIED_DATABASE_URL": "mysql://x"}, [], None, "BERGFRIED_DATABASE_URL", id="database-mysql"),
    pytest.param({"BERGFRIED_EXTERNAL_URL": "ftp://id.example.com"}, [], None, "BERGFRIED_EXTERNAL_URL",
                 id="external-url-not-http"),
    pytest.param({}, ["--config", "missing.yaml"], None, "missing.yaml", id="config-file-missing"),
    pytest.param({}, ["--config", "bergfried.yaml"], "bogus_key: 1\n", "bogus_key", id="config-unknown-key"),
    pytest.param({}, ["--config", "bergfried.yaml"], "workers: lots\n", "'workers'", id="config-bad-value"),
    pytest.param({}, ["--config", "bergfried.yaml"], "- just\n- a list\n", "bergfried.yaml",
                 id="config-not-a-mapping"),
    pytest.param({}, ["--port", "0"], None, "--port", id="flag-port-zero"),
    pytest.param({"BERGFRIED_FIRSTINSTANCE_ADMIN_PASSWORD": "weak"}, [], None,
                 "BERGFRIED_FIRSTINSTANCE_ADMIN_PASSWORD", id="admin-password-weak"),
]


@pytest.mark.parametrize(("env", "flags", "config_text", "named"), BAD_SETTINGS)
def test_bad_setting_is_one_error_line_that_names_it(
    tmp_path: Path, env: dict[str, str], flags: list[str], config_text: str | None, named: str
) -> None:
    if config_text is not None:
        (tmp_path / "bergfried.yaml").write_text(config_text, encoding="utf-8")
    environment = clean_env(BERGFRIED_PORT=str(free_port()))
    environment.update(env)
    result = run_cli(["start", *flags], tmp_path, environment, timeout=30)
    line = the_one_error_line(result)
    assert result.returncode == 1
    assert named in line
    assert result.stdout == ""


def test_weak_admin_password_leaves_no_instance_behind(tmp_path: Path) -> None:
    """The policy check runs before the instance is written, so a corrected restart can still
    bootstrap (and the rejected password is never stored)."""
    database = tmp_path / "bergfried.db"
    env = clean_env(BERGFRIED_PORT=str(free_port()), BERGFRIED_FIRSTINSTANCE_ADMIN_PASSWORD="weak",
                    BERGFRIED_DATABASE_URL=f"sqlite+aiosqlite:///{database}")
    the_one_error_line(run_cli(["start"], tmp_path, env))
    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("SELECT count(*) FROM instances").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_migrate_on_a_fresh_sqlite_file_prints_the_head_revision(tmp_path: Path) -> None:
    database = tmp_path / "fresh" / "bergfried.db"
    env = clean_env(BERGFRIED_DATABASE_URL=f"sqlite+aiosqlite:///{database}")
    result = run_cli(["migrate"], tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert result.stdout == f"database migrated to revision {head_revision()}\n"
    assert database.is_file()
    again = run_cli(["migrate"], tmp_path, env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == result.stdout


def test_migrate_flag_beats_the_environment(tmp_path: Path) -> None:
    database = tmp_path / "from-flag.db"
    env = clean_env(BERGFRIED_DATABASE_URL="mysql://not-used")
    result = run_cli(["migrate", "--database-url", f"sqlite+aiosqlite:///{database}"], tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert database.is_file()


async def test_migrate_on_a_fresh_postgresql_database_prints_the_head_revision(
    tmp_path: Path, postgres_url: str
) -> None:
    env = clean_env(BERGFRIED_DATABASE_URL=postgres_url)  # the plain postgresql:// form
    result = run_cli(["migrate"], tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert result.stdout == f"database migrated to revision {head_revision()}\n"
    assert await alembic_revision(postgres_url) == head_revision()


def test_start_on_a_busy_port_is_one_clear_line_before_touching_the_database(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_cli(["start", "--demo"], tmp_path, clean_env(BERGFRIED_PORT=str(port)))
    line = the_one_error_line(result)
    assert f"127.0.0.1:{port}" in line
    assert "in use" in line
    assert result.stdout == ""
    assert not (tmp_path / "data" / "bergfried.db").exists()


UNUSABLE_DATABASES = [
    pytest.param("postgresql://postgres:pw-never-shown@127.0.0.1:1/x", "127.0.0.1:1", id="postgresql-refused"),
    pytest.param("missing-database", "bergfried_e2e_does_not_exist", id="postgresql-no-such-database"),
    pytest.param("sqlite-directory", "bergfried.db", id="sqlite-unopenable"),
]


def _unusable_url(kind: str, tmp_path: Path) -> str:
    if kind == "missing-database":
        return POSTGRES_URL.rsplit("/", 1)[0] + "/bergfried_e2e_does_not_exist"
    if kind == "sqlite-directory":
        (tmp_path / "bergfried.db").mkdir()
        return f"sqlite+aiosqlite:///{tmp_path / 'bergfried.db'}"
    return kind


@pytest.mark.parametrize(("database_url", "named"), UNUSABLE_DATABASES)
def test_unusable_database_is_one_error_line_that_names_it(tmp_path: Path, database_url: str, named: str) -> None:
    env = clean_env(BERGFRIED_DATABASE_URL=_unusable_url(database_url, tmp_path))
    result = run_cli(["migrate"], tmp_path, env, timeout=30)
    line = the_one_error_line(result)
    assert result.returncode == 1
    assert "database" in line
    assert named in line
    assert "pw-never-shown" not in line
    assert result.stdout == ""


def test_start_on_an_unreachable_database_is_one_error_line(tmp_path: Path) -> None:
    env = clean_env(BERGFRIED_DATABASE_URL="postgresql://postgres:pw-never-shown@127.0.0.1:1/x",
                    BERGFRIED_PORT=str(free_port()))
    result = run_cli(["start", "--demo"], tmp_path, env, timeout=30)
    line = the_one_error_line(result)
    assert "127.0.0.1:1" in line
    assert "BERGFRIED_DATABASE_URL" in line
    assert "pw-never-shown" not in line
    assert result.stdout == ""
