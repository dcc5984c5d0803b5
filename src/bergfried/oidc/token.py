"""The token endpoint's dispatch (RFC 6749 §3.2, §5.1–5.2; spec/endpoints.md §4).

- `grant_type` missing → `invalid_request`; unknown → `unsupported_grant_type`.
- The machine-user grants (client_credentials, RFC 7523 jwt-bearer) authenticate the machine
  user, not an application (spec/other-grants.md §1, §2): they bypass the app steps below.
- The client authenticates with the method its application is configured for
  (oidc/client_auth.py); then the grant type must be enabled for it (`unauthorized_client`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from bergfried.domain.apps import Application, GrantType
from bergfried.errors import InvalidRequest, UnauthorizedClient, UnsupportedGrantType
from bergfried.oidc import client_auth
from bergfried.oidc.grants import (
    authorization_code,
    client_credentials,
    device_code,
    jwt_bearer,
    refresh_token,
    token_exchange,
)
from bergfried.services import Services
from bergfried.tokens.issue import Issued

Handler = Callable[[Services, Application, Mapping[str, str]], Awaitable[Issued]]

# grant_type → (the app setting that enables it, its handler). Adding a grant is adding a row.
GRANTS: dict[str, tuple[GrantType, Handler]] = {
    "authorization_code": (GrantType.AUTHORIZATION_CODE, authorization_code.exchange),
    "refresh_token": (GrantType.REFRESH_TOKEN, refresh_token.exchange),
    "urn:ietf:params:oauth:grant-type:token-exchange": (GrantType.TOKEN_EXCHANGE, token_exchange.exchange),
    device_code.GRANT_TYPE: (GrantType.DEVICE_CODE, device_code.exchange),
}

MachineHandler = Callable[[Services, str | None, Mapping[str, str]], Awaitable[Issued]]
MACHINE_GRANTS: dict[str, MachineHandler] = {
    "client_credentials": client_credentials.exchange,
    jwt_bearer.GRANT_TYPE: jwt_bearer.exchange,
}


async def token(services: Services, authorization: str | None, form: Mapping[str, str]) -> Issued:
    grant_type = form.get("grant_type")
    if not grant_type:
        raise InvalidRequest("grant_type is missing")
    if grant_type in MACHINE_GRANTS:
        return await MACHINE_GRANTS[grant_type](services, authorization, form)
    if grant_type not in GRANTS:
        raise UnsupportedGrantType(f"grant_type {grant_type!r} is not supported")
    credentials = client_auth.parse(authorization, form)
    app = await client_auth.authenticate(services, credentials)
    setting, handler = GRANTS[grant_type]
    if app.oidc is None or setting not in app.oidc.grant_types:
        raise UnauthorizedClient(f"grant_type {grant_type!r} is not allowed for this client")
    return await handler(services, app, form)
