"""`bergfried claims explain`: why a claim is in a token, or why it is missing. Reads the
database directly (like `bergfried keys rotate`); writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bergfried.claims.matrix import Destination

if TYPE_CHECKING:
    from bergfried.claims.explain import Explanation
    from bergfried.settings import Settings

app = typer.Typer(no_args_is_help=True, help="Claims: which claim goes where, and why.")


@app.command("explain")
def explain_command(
    user: Annotated[str, typer.Option("--user", help="The user: its id or a login name.")],
    client: Annotated[str, typer.Option("--client", help="The client id of the application.")],
    scope: Annotated[str, typer.Option("--scope", help="The scope, as the authorization request sends it.")],
    destination: Annotated[Destination | None, typer.Option(
        "--destination", help="Only this destination (default: all four).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of text.")] = False,
    response_type: Annotated[str, typer.Option("--response-type", help="code, id_token or 'id_token token'.")] = "code",
    nonce: Annotated[str | None, typer.Option("--nonce", help="A nonce sent in the authorization request.")] = None,
    database_url: Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL of the database.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML file with settings.")] = None,
) -> None:
    """Every claim that would be emitted or left out, with the matrix cell and setting that decided it."""
    from bergfried.cli.main import _run_on_database, _settings

    settings = _settings({"database_url": database_url}, config)
    destinations = (destination,) if destination else tuple(Destination)
    result = _run_on_database(settings, _explain(settings, user, client, scope, destinations, response_type, nonce))
    typer.echo(json.dumps(result.to_json(), indent=2) if as_json else result.render())


async def _explain(settings: Settings, user: str, client: str, scope: str, destinations: tuple[Destination, ...],
                   response_type: str, nonce: str | None) -> Explanation:
    from bergfried.claims.explain import explain
    from bergfried.errors import ConfigError, NotFound
    from bergfried.store import users
    from bergfried.store.engine import create_engine
    from bergfried.store.tx import Store

    engine = create_engine(settings.database_url)
    must_be_domain = settings.user_login_must_be_domain
    try:
        async with Store(engine).write() as tx:  # read-only work; a write transaction gives `tx.now`
            found = await users.find(tx.conn, user) if user.isdigit() else None
            found = found or await users.find_by_login_name(tx.conn, user, must_be_domain=must_be_domain)
            if found is None:
                raise ConfigError(f"no user {user!r} (give its id or a login name)")
            try:
                return await explain(tx, issuer=settings.issuer, user_id=found.id, client_id=client, scope=scope,
                                     must_be_domain=must_be_domain, destinations=destinations,
                                     response_type=response_type, nonce=nonce)
            except NotFound as exc:
                raise ConfigError(f"{exc.description}: {exc.detail}") from None
    finally:
        await engine.dispose()
