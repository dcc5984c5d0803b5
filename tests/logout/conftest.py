"""Setup for back-channel logout: the token-endpoint fixtures of tests/oidc plus applications
with a back-channel logout URI and helpers that read the outbox and verify a logout token."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import KeySet

from bergfried.domain.apps import Application, AuthMethodType, GrantType, OIDCConfig
from bergfried.store import projects
from bergfried.store import tables as t
from tests.factories import make_web_app
from tests.oidc.conftest import Resources, clock, movable_services, res  # noqa: F401

KEYS = "/oauth/v2/keys"


async def backchannel_app(res: Resources, name: str, uri: str) -> Application:  # noqa: F811
    async with res.services.store.read() as conn:
        project = await projects.get(conn, res.web.project_id)
    return await make_web_app(res.services.store, project, name, OIDCConfig(
        redirect_uris=(f"https://{name}.example.com/cb",), back_channel_logout_uri=uri,
        grant_types=(GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN), auth_method_type=AuthMethodType.BASIC,
    ))


async def outbox_rows(res: Resources) -> list[Any]:  # noqa: F811
    async with res.services.store.read() as conn:
        return list((await conn.execute(sa.select(t.outbox).order_by(t.outbox.c.created_at, t.outbox.c.id))).all())


async def verify(res: Resources, token: str) -> tuple[dict[str, Any], dict[str, Any]]:  # noqa: F811
    """Header and claims of a logout token, verified with joserfc against the published JWKS."""
    keys = KeySet.import_key_set((await res.client.get(KEYS)).json())
    decoded = jwt.decode(token, keys)
    return dict(decoded.header), dict(decoded.claims)
