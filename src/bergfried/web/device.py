"""HTTP for the device authorization grant (RFC 8628); the rules live in
`bergfried.oidc.device_authorization`.

- `/oauth/v2/device_authorization` (POST form): JSON, `Cache-Control: no-store` (RFC 8628 §3.2).
- `/device` (GET): the `verification_uri`; sends the browser to the hosted login's user-code
  page `/ui/login/device`, keeping `user_code` (ZITADEL's login `EndpointDeviceAuth`).
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bergfried.errors import OAuthError
from bergfried.logs import get
from bergfried.oidc.device_authorization import VERIFICATION_PATH, authorize_device
from bergfried.web import errors
from bergfried.web.forms import read_form
from bergfried.web.state import services_of

log = get(__name__)
USER_CODE_PAGE = "/ui/login/device"


async def device_authorization(request: Request) -> Response:
    services = services_of(request)
    try:
        form = await read_form(request)
        body = await authorize_device(services, request.headers.get("authorization"), form)
    except OAuthError as exc:
        log.info("device_authorization_rejected", error=exc.code, detail=exc.detail or exc.description)
        return errors.oauth_error(exc)
    return errors.json_response(body, 200, errors.NO_STORE)


async def verification(request: Request) -> Response:
    user_code = request.query_params.get("user_code")
    query = f"?{urlencode({'user_code': user_code})}" if user_code else ""
    return RedirectResponse(USER_CODE_PAGE + query, status_code=302, headers={"cache-control": "no-store"})


def routes() -> list[Route]:
    return [
        Route("/oauth/v2/device_authorization", device_authorization, methods=["POST"]),
        Route(VERIFICATION_PATH, verification, methods=["GET"]),
    ]
