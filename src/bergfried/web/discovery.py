"""`GET /.well-known/openid-configuration` and `GET /oauth/v2/keys` (spec/endpoints.md §1).

Both serve prepared bytes: discovery is rendered once per issuer and process, the JWKS comes from
the key ring's snapshot. JWKS caching is ZITADEL's `max-age=300, must-revalidate`; discovery
changes only with a new release or issuer, so it gets the same.
"""

from __future__ import annotations

import functools

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bergfried.keys.keyring import JWKS_MAX_AGE
from bergfried.oidc.discovery import discovery_document
from bergfried.services import Services

JSON = "application/json"
CACHE_CONTROL = f"max-age={int(JWKS_MAX_AGE.total_seconds())}, must-revalidate"


@functools.lru_cache(maxsize=16)
def _discovery_bytes(issuer: str) -> bytes:
    return orjson.dumps(discovery_document(issuer))


async def openid_configuration(request: Request) -> Response:
    services: Services = request.app.state.services
    return Response(_discovery_bytes(services.settings.issuer), media_type=JSON,
                    headers={"cache-control": CACHE_CONTROL})


async def jwks(request: Request) -> Response:
    services: Services = request.app.state.services
    return Response(await services.keyring.jwks_json(), media_type=JSON, headers={"cache-control": CACHE_CONTROL})


def routes() -> list[Route]:
    return [
        Route("/.well-known/openid-configuration", openid_configuration, methods=["GET"]),
        Route("/oauth/v2/keys", jwks, methods=["GET"]),
    ]
