"""Everything the assembler reads besides the matrix: the subject, the token's scopes, the
client's and project's settings, the facts of the token being made or introspected, and the
user's grants when a roles claim can be emitted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.claims.subject import Subject
from bergfried.domain.apps import Application, TokenType
from bergfried.store import tables as t


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """The settings that move claims (spec/claims.md §4), by the client that asked for the token.
    `project_id` is the project whose roles are "the project's roles" (introspection: the caller's)."""

    client_id: str
    project_id: str
    jwt_access_token: bool = False
    id_token_userinfo_assertion: bool = False
    id_token_role_assertion: bool = False
    access_token_role_assertion: bool = False
    project_role_assertion: bool = False

    def setting(self, name: str) -> bool:
        return {
            "idTokenUserinfoAssertion": self.id_token_userinfo_assertion,
            "idTokenRoleAssertion": self.id_token_role_assertion,
            "accessTokenRoleAssertion": self.access_token_role_assertion,
            "projectRoleAssertion": self.project_role_assertion,
            "accessTokenType": self.jwt_access_token,
        }[name]


@dataclass(frozen=True, slots=True)
class TokenFacts:
    """The protocol values of one token (times already moved by the app's clock skew)."""

    issuer: str
    client_id: str
    audience: tuple[str, ...]
    issued_at: int
    expires_at: int
    token_id: str | None = None
    auth_time: int | None = None
    amr: tuple[str, ...] = ()
    session_id: str | None = None
    nonce: str | None = None
    actor: dict[str, Any] | None = None
    at_hash: str | None = None
    c_hash: str | None = None
    response_type: str = "code"
    acr: str = "0"


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """One active user grant, with its organization's primary domain (the roles claim's value)."""

    project_id: str
    org_id: str
    org_primary_domain: str
    role_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Context:
    subject: Subject
    scopes: tuple[str, ...]
    client: ClientSettings
    token: TokenFacts
    grants: tuple[RoleGrant, ...] = ()
    role_projects: tuple[str, ...] = ()  # the role audience, own project first


def _settings(app: Application, project_role_assertion: bool) -> ClientSettings:
    oidc = app.oidc
    return ClientSettings(
        client_id=app.client_id, project_id=app.project_id, project_role_assertion=project_role_assertion,
        jwt_access_token=oidc is not None and oidc.access_token_type == TokenType.JWT,
        id_token_userinfo_assertion=bool(oidc and oidc.id_token_userinfo_assertion),
        id_token_role_assertion=bool(oidc and oidc.id_token_role_assertion),
        access_token_role_assertion=bool(oidc and oidc.access_token_role_assertion),
    )


async def client_settings(conn: AsyncConnection, app: Application) -> ClientSettings:
    """One query by primary key: the project's flag beside the app's own settings."""
    flag = (await conn.execute(sa.select(t.projects.c.project_role_assertion)
                               .where(t.projects.c.id == app.project_id))).scalar_one_or_none()
    return _settings(app, bool(flag))


async def client_settings_by_id(conn: AsyncConnection, client_id: str) -> ClientSettings | None:
    """One query on the client id's unique index, joined to the project, only the columns needed."""
    a, p = t.applications, t.projects
    row = (await conn.execute(
        sa.select(a.c.client_id, a.c.project_id, a.c.access_token_type, a.c.id_token_userinfo_assertion,
                  a.c.id_token_role_assertion, a.c.access_token_role_assertion, p.c.project_role_assertion)
        .join(p, p.c.id == a.c.project_id).where(a.c.client_id == client_id)
    )).first()
    if row is None:
        return None
    return ClientSettings(
        client_id=row.client_id, project_id=row.project_id, jwt_access_token=row.access_token_type == TokenType.JWT,
        id_token_userinfo_assertion=bool(row.id_token_userinfo_assertion),
        id_token_role_assertion=bool(row.id_token_role_assertion),
        access_token_role_assertion=bool(row.access_token_role_assertion),
        project_role_assertion=bool(row.project_role_assertion),
    )
