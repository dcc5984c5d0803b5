"""`bergfried users metadata set|get|list|remove --user LOGIN_NAME …`: a user's metadata from the
shell, on the database directly (like `bergfried keys rotate`), with the management API's rules
(`management.user_metadata`). Values are UTF-8 text; the claim carries them base64url-encoded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from bergfried.domain.users import User
    from bergfried.settings import Settings
    from bergfried.store.tx import Tx

app = typer.Typer(no_args_is_help=True, help="Users: their metadata.")
metadata_app = typer.Typer(no_args_is_help=True, help="A user's metadata (key → value).")
app.add_typer(metadata_app, name="metadata")

UserOption = Annotated[str, typer.Option("--user", help="The user's login name (or its id).")]
KeyArgument = Annotated[str, typer.Argument(help="The metadata key.")]
DatabaseOption = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL of the database.")]
ConfigOption = Annotated[Path | None, typer.Option("--config", help="YAML file with settings.")]
T = TypeVar("T")


def _on_user(database_url: str | None, config: Path | None, login: str,
             work: Callable[[Tx, User], Awaitable[T]]) -> T:
    from bergfried.cli.main import _run_on_database, _settings

    settings = _settings({"database_url": database_url}, config)
    return _run_on_database(settings, _with_user(settings, login, work))


async def _with_user(settings: Settings, login: str, work: Callable[[Tx, User], Awaitable[T]]) -> T:
    from bergfried.errors import ConfigError
    from bergfried.store import users
    from bergfried.store.engine import create_engine
    from bergfried.store.tx import Store

    engine = create_engine(settings.database_url)
    try:
        async with Store(engine).write() as tx:
            found = await users.find(tx.conn, login) if login.isdigit() else None
            found = found or await users.find_by_login_name(
                tx.conn, login, must_be_domain=settings.user_login_must_be_domain)
            if found is None:
                raise ConfigError(f"no user {login!r} (give a login name or the user's id)")
            return await work(tx, found)
    finally:
        await engine.dispose()


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


@metadata_app.command("set")
def set_command(user: UserOption, key: KeyArgument, value: Annotated[str, typer.Argument(help="The value.")],
                database_url: DatabaseOption = None, config: ConfigOption = None) -> None:
    """Set one key (setting the value it already has changes nothing)."""
    from bergfried.domain.metadata import Metadata
    from bergfried.management import user_metadata

    async def work(tx: Tx, found: User) -> Any:
        return await user_metadata.set_metadata(tx, found.org_id, found.id, [Metadata(key, value.encode())])

    _on_user(database_url, config, user, work)
    typer.echo(f"metadata {key} of {user} set")


@metadata_app.command("get")
def get_command(user: UserOption, key: KeyArgument, database_url: DatabaseOption = None,
                config: ConfigOption = None) -> None:
    """Print one value."""
    from bergfried.management import user_metadata

    async def work(tx: Tx, found: User) -> bytes:
        row = await user_metadata.get_metadata(tx.conn, found.org_id, found.id, key)
        return bytes(row.value)

    typer.echo(_text(_on_user(database_url, config, user, work)))


@metadata_app.command("list")
def list_command(user: UserOption, database_url: DatabaseOption = None, config: ConfigOption = None) -> None:
    """Print every key and value, one `key<TAB>value` a line, in key order."""
    from bergfried.store import metadata

    async def work(tx: Tx, found: User) -> dict[str, bytes]:
        return await metadata.get_all(tx.conn, found.id)

    for key, value in _on_user(database_url, config, user, work).items():
        typer.echo(f"{key}\t{_text(value)}")


@metadata_app.command("remove")
def remove_command(user: UserOption, key: KeyArgument, database_url: DatabaseOption = None,
                   config: ConfigOption = None) -> None:
    """Remove one key."""
    from bergfried.management import user_metadata

    async def work(tx: Tx, found: User) -> Any:
        return await user_metadata.remove_one(tx, found.org_id, found.id, key)

    _on_user(database_url, config, user, work)
    typer.echo(f"metadata {key} of {user} removed")
