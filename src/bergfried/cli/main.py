"""`bergfried start | migrate | apply | keys rotate | claims explain | users metadata | version`.
Errors print one line on stderr and exit non-zero; a traceback never reaches the terminal."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from bergfried import __version__, logs
from bergfried.cli import apply as apply_cli
from bergfried.cli import claims as claims_cli
from bergfried.cli import users as users_cli
from bergfried.errors import BergfriedError, ConfigError
from bergfried.keys.generate import Algorithm
from bergfried.settings import Settings, load_settings, worker_environment

if TYPE_CHECKING:
    from bergfried.store.purge import Purged
    from bergfried.store.signing_keys import SigningKey

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Bergfried, a ZITADEL-compatible OpenID Connect provider.")

ConfigOption = Annotated[Path | None, typer.Option("--config", help="YAML file with settings (lowest precedence).")]
DatabaseOption = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL of the database.")]


T = TypeVar("T")


def _settings(flags: dict[str, Any], config: Path | None) -> Settings:
    settings = load_settings(flags, config)
    logs.configure(settings.log_format, settings.log_level)
    return settings


async def _settle_sqlite_threads(deadline: float = 2.0) -> None:
    """aiosqlite lets the thread of a failed connection report back to the event loop later; if
    the loop has closed by then, the thread prints a traceback. Wait for such threads first."""
    end = time.monotonic() + deadline
    for thread in threading.enumerate():
        if thread.name.endswith("(_connection_worker_thread)"):
            await asyncio.to_thread(thread.join, max(0.0, end - time.monotonic()))


def _run_on_database(settings: Settings, work: Coroutine[Any, Any, T]) -> T:
    """Run `work` on its own event loop; a database that cannot be reached or opened becomes one
    error line that names it (without its password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    async def settled() -> T:
        try:
            return await work
        finally:
            await _settle_sqlite_threads()

    try:
        return asyncio.run(settled())
    except (ConnectionError, TimeoutError, socket.gaierror, DBAPIError) as exc:
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        url = make_url(settings.database_url).render_as_string(hide_password=True)
        raise ConfigError(f"cannot use the database {url} (BERGFRIED_DATABASE_URL, --database-url): {reason}"
                          f"{_read_only_hint(settings.database_url)}") from None


def _read_only_hint(database_url: str) -> str:
    """SQLite needs to write its file and, for the write-ahead log, the directory it lies in."""
    from bergfried.store.engine import sqlite_path

    path = sqlite_path(database_url)
    if path is None:
        return ""
    for place in (path, path.parent):
        if place.exists() and not os.access(place, os.W_OK):
            return f" ({place} is read-only)"
    return ""


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


@app.command()
def start(
    workers: Annotated[int | None, typer.Option("--workers", help="Worker processes.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Also create the seed guide's demo world.")] = False,
    port: Annotated[int | None, typer.Option("--port")] = None,
    host: Annotated[str | None, typer.Option("--host")] = None,
    external_url: Annotated[str | None, typer.Option("--external-url", help="The issuer.")] = None,
    database_url: DatabaseOption = None,
    log_format: Annotated[str | None, typer.Option("--log-format", help="console or json")] = None,
    config: ConfigOption = None,
) -> None:
    """Migrate the database, bootstrap the first instance, and serve."""
    from bergfried.cli.prepare import prepare

    flags = {"workers": workers, "port": port, "host": host, "external_url": external_url,
             "database_url": database_url, "log_format": log_format}
    settings = _settings(flags, config)
    _check_port_free(settings.host, settings.port)
    report = _run_on_database(settings, prepare(settings, demo=demo))
    typer.echo(report)
    _serve(settings, flags, config)


def _serve(settings: Settings, flags: dict[str, Any], config: Path | None) -> None:
    import uvicorn

    common: dict[str, Any] = {"host": settings.host, "port": settings.port, "log_config": None, "access_log": False,
                              "server_header": False, "lifespan": "on"}
    if settings.workers == 1:
        from bergfried.web.app import create_app

        uvicorn.run(create_app(settings), **common)
        return
    os.environ.update(worker_environment(flags, config))
    uvicorn.run("bergfried.web.app:worker_app", factory=True, workers=settings.workers, **common)


@app.command()
def migrate(database_url: DatabaseOption = None, config: ConfigOption = None) -> None:
    """Apply the database migrations and exit."""
    from bergfried.store.engine import create_engine
    from bergfried.store.migrate import migrate as run_migrations

    settings = _settings({"database_url": database_url}, config)

    async def run() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            return await run_migrations(engine)
        finally:
            await engine.dispose()

    revision = _run_on_database(settings, run())
    typer.echo(f"database migrated to revision {revision}")


@app.command()
def purge(database_url: DatabaseOption = None, config: ConfigOption = None) -> None:
    """Delete expired codes, tokens, auth requests, device codes, used assertion ids and old outbox
    rows (the server also does this every `purge_interval`)."""
    import bergfried.store.migrate  # noqa: F401  (see keys rotate)

    settings = _settings({"database_url": database_url}, config)
    purged = _run_on_database(settings, _purge(settings))
    details = ", ".join(f"{table} {count}" for table, count in purged.counts.items() if count)
    typer.echo(f"purged {purged.total} rows" + (f" ({details})" if details else ""))


async def _purge(settings: Settings) -> Purged:
    from bergfried.store.engine import create_engine
    from bergfried.store.migrate import current_revision, head_revision
    from bergfried.store.purge import purge as run_purge
    from bergfried.store.tx import Store, utcnow

    engine = create_engine(settings.database_url)
    try:
        if await current_revision(engine) != head_revision():
            raise ConfigError("the database is not migrated to the current schema; run `bergfried migrate` first")
        return await run_purge(Store(engine), utcnow())
    finally:
        await engine.dispose()


keys_app = typer.Typer(no_args_is_help=True, help="Signing keys: rotate.")
app.add_typer(keys_app, name="keys")
app.add_typer(claims_cli.app, name="claims")
app.add_typer(users_cli.app, name="users")
app.command("apply")(apply_cli.apply_command)


@keys_app.command("rotate")
def keys_rotate(
    algorithm: Annotated[Algorithm | None, typer.Option(
        "--algorithm", help="Algorithm of the new key (default: the signing_algorithm setting).")] = None,
    database_url: DatabaseOption = None,
    config: ConfigOption = None,
) -> None:
    """Publish a new signing key; it signs once JWKS caches have seen it.

    The key it replaces stops signing then and stays published until its last token has expired.
    """
    # Imported before logging is set up, as `migrate` does: alembic announces its plugins at
    # import time, and once logging is configured those INFO lines would land on stderr.
    import bergfried.store.migrate  # noqa: F401

    settings = _settings({"database_url": database_url}, config)
    chosen = algorithm or Algorithm(settings.signing_algorithm)
    key = _run_on_database(settings, _rotate(settings, chosen))
    signs_from = key.signs_from.isoformat(timespec="seconds").replace("+00:00", "Z")
    typer.echo(f"new signing key {key.kid} ({key.algorithm}) published; it signs from {signs_from}")


async def _rotate(settings: Settings, algorithm: Algorithm) -> SigningKey:
    from bergfried import services as services_module
    from bergfried.crypto.aead import DecryptionError
    from bergfried.store.migrate import current_revision, head_revision

    if settings.masterkey is None and not settings.masterkey_file.is_file():
        # build() would make a new master key, and the server could not open a key sealed with it
        raise ConfigError(f"no master key: set BERGFRIED_MASTERKEY or run where {settings.masterkey_file} is")
    built = services_module.build(settings)
    try:
        if await current_revision(built.engine) != head_revision():
            raise ConfigError("the database is not migrated to the current schema; run `bergfried migrate` first")
        keep = max(settings.access_token_lifetime, settings.id_token_lifetime)
        return await built.keyring.rotate(algorithm, keep_published=keep)
    except DecryptionError:
        raise ConfigError("this master key does not open the current signing key; use the server's master key "
                          "(BERGFRIED_MASTERKEY or the masterkey file)") from None
    finally:
        await built.close()


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"bergfried {__version__}")


def main() -> None:
    # Standalone mode lets typer render its own usage errors and help (exit 2 / 0); typer vendors
    # click, so `click.ClickException` would not catch them here. Our errors and anything
    # unexpected still come out of it as exceptions and become one line on stderr.
    try:
        app(standalone_mode=True)
    except BergfriedError as exc:
        typer.echo(f"bergfried: error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the promise: no traceback on the terminal
        typer.echo(f"bergfried: unexpected error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                   err=True)
        sys.exit(70)
