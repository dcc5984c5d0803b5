"""Building the assembler's context: the user's grants on the role audience's projects, taken from
those the subject was loaded with (claims/subject.py), or loaded with one indexed query when the
subject came without them, and then only when the matrix says a roles claim can be emitted in one
of the destinations being made."""

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
    if subject.grants is not None:
        grants = tuple(grant for grant in subject.grants if grant.project_id in projects)
    else:
        grants = await load_grants(conn, subject.user.id, projects)
    return Context(subject=subject, scopes=scopes, client=client, token=token, grants=grants, role_projects=projects)
