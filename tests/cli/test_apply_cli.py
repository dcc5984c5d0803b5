"""`bergfried apply` and `bergfried users metadata` as an operator runs them (a real process):
exit codes, one-line errors that name the file and the path in it, the plan it prints, the client
secret in a 0600 file or printed once, and the metadata verbs; the apply on both databases."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from bergfried import services as services_module
from bergfried.bootstrap import bootstrap
from bergfried.settings import load_settings
from bergfried.store.migrate import migrate
from tests.conftest import MASTERKEY
from tests.processes import clean_env, run_cli

EXAMPLE = Path(__file__).parents[2] / "examples" / "seed-guide.yaml"
LOGIN = "road.runner@acme.localhost"
PLAN = [
    "+ create organization ACME",
    "+ create project ACME/docs-claims",
    "+ create role ACME/docs-claims/admin",
    "+ create role ACME/docs-claims/user",
    "+ create application ACME/docs-claims/docs-claims-web",
    "+ create user ACME/road.runner",
    "+ create metadata ACME/road.runner contract",
    "+ create grant ACME/road.runner on docs-claims",
]


async def started(url: str, *, with_instance: bool = True) -> None:
    """What `bergfried start` leaves behind before it serves: a migrated database and the instance."""
    settings = load_settings({"database_url": url, "masterkey": MASTERKEY}, environ={})
    built = services_module.build(settings)
    try:
        await migrate(built.engine)
        if with_instance:
            await bootstrap(built)
    finally:
        await built.close()


def cli(url: str, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = clean_env(**{"BERGFRIED_DATABASE_URL": url, "BERGFRIED_MASTERKEY": MASTERKEY,
                               "ROAD_RUNNER_PASSWORD": "Seed-Guide-Pass1", **env})
    return run_cli(list(args), cwd, environment)


def the_one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("bergfried: error: ")
    return lines[0].removeprefix("bergfried: error: ")



async def test_apply_builds_the_example_once_with_a_0600_secret_file(database_url: str, tmp_path: Path) -> None:
    await started(database_url)
    dry = cli(database_url, tmp_path, "apply", "-f", str(EXAMPLE), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [*PLAN, "Dry run: 8 to create, 0 to change, 0 to delete; nothing was written."]

    applied = cli(database_url, tmp_path, "apply", "-f", str(EXAMPLE), "--secrets-dir", "secrets")
    assert applied.returncode == 0, applied.stderr
    lines = applied.stdout.splitlines()
    assert lines[:9] == [*PLAN, "Applied: 8 to create, 0 to change, 0 to delete."]
    secret_file = tmp_path / "secrets" / "acme.docs-claims.docs-claims-web.json"
    assert lines[9].endswith(f"written to {Path('secrets') / secret_file.name} (mode 0600).")
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert "clientSecret" in secret_file.read_text(encoding="utf-8")
    assert "clientSecret" not in applied.stdout

    again = cli(database_url, tmp_path, "apply", "-f", str(EXAMPLE))
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"No changes: the database already holds the world of {EXAMPLE}.\n"


async def test_without_a_secrets_dir_the_secret_is_printed_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bergfried.db'}"
    await started(url)
    applied = cli(url, tmp_path, "apply", "-f", str(EXAMPLE))
    assert applied.returncode == 0, applied.stderr
    tail = applied.stdout.splitlines()[-3:]
    assert tail[0] == "Client secret of ACME/docs-claims/docs-claims-web, shown only now (it is stored hashed):"
    assert tail[1].startswith("  client id      ")
    assert tail[1].endswith("@docs-claims")
    assert len(tail[2].removeprefix("  client secret  ")) >= 43


async def test_errors_are_one_line_and_name_the_file_and_the_path(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bergfried.db'}"
    await started(url)
    broken = tmp_path / "world.yaml"
    broken.write_text("orgs:\n  - name: ACME\n    projects:\n      - name: p\n        roles: [{key: admin}]\n",
                      encoding="utf-8")
    line = the_one_error_line(cli(url, tmp_path, "apply", "-f", "world.yaml"))
    assert line == "world.yaml: orgs[0].projects[0].roles[0].displayName: Field required"

    weak = the_one_error_line(cli(url, tmp_path, "apply", "-f", str(EXAMPLE), ROAD_RUNNER_PASSWORD="short"))
    assert weak == (f"{EXAMPLE}: orgs[0].users[0]: cannot create user ACME/road.runner: "
                    "Password is too short (DOMAIN-HuJf6)")

    missing = cli(url, tmp_path, "apply")
    assert missing.returncode == 2
    assert "--file" in missing.stderr


async def test_apply_needs_a_started_instance_and_the_master_key(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bergfried.db'}"
    await started(url, with_instance=False)
    line = the_one_error_line(cli(url, tmp_path, "apply", "-f", str(EXAMPLE)))
    assert line == "there is no instance in this database yet; run `bergfried start` once first"
    no_key = clean_env(BERGFRIED_DATABASE_URL=url)
    line = the_one_error_line(run_cli(["apply", "-f", str(EXAMPLE)], tmp_path, no_key))
    assert "BERGFRIED_MASTERKEY" in line
    assert not (tmp_path / "data").exists()  # no master key made up


async def test_users_metadata_verbs(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bergfried.db'}"
    await started(url)
    assert cli(url, tmp_path, "apply", "-f", str(EXAMPLE), "--secrets-dir", "s").returncode == 0

    def metadata(*args: str) -> subprocess.CompletedProcess[str]:
        return cli(url, tmp_path, "users", "metadata", *args)

    assert metadata("set", "--user", LOGIN, "plan", "gold plus").stdout == f"metadata plan of {LOGIN} set\n"
    assert metadata("get", "--user", LOGIN, "plan").stdout == "gold plus\n"
    assert metadata("remove", "--user", LOGIN, "plan").stdout == f"metadata plan of {LOGIN} removed\n"
    assert metadata("list", "--user", LOGIN).stdout == "contract\t1234\n"
    assert the_one_error_line(metadata("get", "--user", LOGIN, "plan")) == "Metadata not found (QUERY-Rgh32)"
    assert the_one_error_line(metadata("list", "--user", "nobody@acme.localhost")) == (
        "no user 'nobody@acme.localhost' (give a login name or the user's id)")
    assert the_one_error_line(metadata("set", "--user", LOGIN, "k" * 201, "v")).startswith(
        "invalid SetUserMetadataRequest.Key: value length must be between 1 and 200 runes")
