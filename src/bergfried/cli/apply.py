"""`bergfried apply -f world.yaml [--dry-run] [--prune] [--secrets-dir DIR]`: make the database
hold the world the file declares, in one transaction, and print what changed."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from bergfried.apply.execute import Outcome
    from bergfried.apply.schema import World
    from bergfried.services import Services
    from bergfried.settings import Settings


def apply_command(
    file: Annotated[Path, typer.Option("--file", "-f", help="The world file (YAML).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; write nothing.")] = False,
    prune: Annotated[bool, typer.Option(
        "--prune", help="Also delete roles, applications, metadata and grants that the file's lists leave out.")
    ] = False,
    secrets_dir: Annotated[Path | None, typer.Option(
        "--secrets-dir", help="Write new client secrets here (mode 0600) instead of printing them once.")] = None,
    database_url: Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL of the database.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML file with settings.")] = None,
) -> None:
    """Create or change organizations, projects, roles, applications, users, metadata and grants
    as the file declares them; running it again changes nothing."""
    import bergfried.store.migrate  # noqa: F401  (before logging is set up, as `keys rotate` does)
    from bergfried.apply import schema
    from bergfried.cli.main import _run_on_database, _settings

    world = schema.load(file)
    settings = _settings({"database_url": database_url}, config)
    outcome = _run_on_database(settings, _apply(settings, world, file, dry_run=dry_run, prune=prune,
                                                secrets_dir=secrets_dir))
    typer.echo(render(outcome, file))


async def open_services(settings: Settings) -> Services:
    """Services on a migrated database with the server's master key (new client secrets are
    keyed hashes under it; a new key would make them useless)."""
    from bergfried import services as services_module
    from bergfried.errors import ConfigError
    from bergfried.store.migrate import current_revision, head_revision

    if settings.masterkey is None and not settings.masterkey_file.is_file():
        raise ConfigError(f"no master key: set BERGFRIED_MASTERKEY or run where {settings.masterkey_file} is")
    built = services_module.build(settings)
    try:
        if await current_revision(built.engine) != head_revision():
            raise ConfigError("the database is not migrated to the current schema; run `bergfried migrate` first")
    except BaseException:
        await built.close()
        raise
    return built


async def _apply(settings: Settings, world: World, file: Path, *, dry_run: bool, prune: bool,
                 secrets_dir: Path | None) -> Outcome:
    from bergfried.apply.execute import apply_world

    base_dir = await asyncio.to_thread(lambda: file.resolve().parent)
    built = await open_services(settings)
    try:
        return await apply_world(built, world, base_dir=base_dir, environ=os.environ, dry_run=dry_run,
                                 prune=prune, secrets_dir=secrets_dir, source=str(file))
    finally:
        await built.close()


def render(outcome: Outcome, file: Path) -> str:
    from bergfried.apply.actions import summary

    if not outcome.actions:
        return f"No changes: the database already holds the world of {file}."
    lines = [action.render() for action in outcome.actions]
    if not outcome.applied:
        return "\n".join([*lines, f"Dry run: {summary(outcome.actions)}; nothing was written."])
    lines.append(f"Applied: {summary(outcome.actions)}.")
    if outcome.secret_files:
        for secret, path in zip(outcome.secrets, outcome.secret_files, strict=True):
            lines.append(f"Client secret of {secret.target} (client id {secret.client_id}) written to {path} "
                         "(mode 0600).")
        return "\n".join(lines)
    for secret in outcome.secrets:
        lines += [f"Client secret of {secret.target}, shown only now (it is stored hashed):",
                  f"  client id      {secret.client_id}", f"  client secret  {secret.secret}"]
    return "\n".join(lines)
