"""Building the assembler's context: the user's grants are loaded (one indexed query) only when
the matrix says a roles claim can be emitted in one of the destinations being made."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.claims.assemble import Destination, role_audience
from bergfried.claims.context import ClientSettings, Context, TokenFacts
from bergfried.claims.roles import load_grants
from bergfried.claims.subject import Subject


async def context(conn: AsyncConnection, subject: Subject, scopes: tuple[str, ...], client: ClientSettings,
                  token: TokenFacts, *destinations: Destination) -> Context:
    projects: tuple[str, ...] = ()
    for destination in destinations:
        projects = projects or role_audience(scopes, client, destination)
    grants = await load_grants(conn, subject.user.id, projects)
    return Context(subject=subject, scopes=scopes, client=client, token=token, grants=grants, role_projects=projects)
