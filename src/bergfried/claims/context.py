"""Everything the assembler reads besides the matrix: the subject, the token's scopes, the
client's and project's settings, the facts of the token being made or introspected, and the
user's grants when a roles claim can be emitted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bergfried.claims.inputs import ClientSettings, RoleGrant
from bergfried.claims.subject import Subject
from bergfried.domain.apps import Application, TokenType
from bergfried.store import tables as t

__all__ = ["ClientSettings", "Context", "RoleGrant", "TokenFacts", "client_settings"]


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
